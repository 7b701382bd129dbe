/** Calls the app's one handler table as the renderer would (trusted sender), unwrapping the result or throwing its error. */
import { dispatch, type HandlerTable } from '../../src/node/handlers';
import type { Channel, RequestOf, ResponseOf } from '../../src/shared/api';
import type { Logger } from '../../src/node/log';

export async function callHandler<C extends Channel>(table: HandlerTable, log: Logger, channel: C, request: RequestOf<C>): Promise<ResponseOf<C>> {
  const r = await dispatch(table, channel, request, { url: 'app://test', trusted: true }, log);
  if (!r.ok) throw Object.assign(new Error(r.error.message), r.error);
  return r.value as ResponseOf<C>;
}
