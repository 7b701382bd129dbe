import type { Channel, MedImgBridge, RequestOf, ResponseOf } from '../shared/api';
import type { ApiError } from '../shared/errors';

declare global {
  interface Window {
    medimg?: MedImgBridge;
  }
}

/** A failed bridge call, carrying the typed error from the main process. */
export class BridgeError extends Error {
  constructor(readonly error: ApiError) {
    super(error.message);
    this.name = 'BridgeError';
  }
}

export function bridge(): MedImgBridge {
  if (!window.medimg) {
    throw new BridgeError({
      code: 'INTERNAL',
      message: 'MedImgShr\'s main process is not connected to this window.',
      hint: 'Restart MedImgShr.',
    });
  }
  return window.medimg;
}

/** Calls the main process and returns the value, or throws a BridgeError with the user-readable error. */
export async function call<C extends Channel>(channel: C, request: RequestOf<C>): Promise<ResponseOf<C>> {
  const result = await bridge().invoke(channel, request);
  if (!result.ok) throw new BridgeError(result.error);
  return result.value;
}
