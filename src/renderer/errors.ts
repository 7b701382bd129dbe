/** What the UI says when a call to the main process (or anything else) fails. */
import { BridgeError } from './bridge';

/** An error the user can act on: what went wrong, and what to do (the hint). */
export type UserError = { message: string; hint?: string | null };

/** The message, hint and error code, for views that show them apart. */
export function errorText(e: unknown): { message: string; hint: string | null; code: string } {
  if (e instanceof BridgeError) return { message: e.error.message, hint: e.error.hint ?? null, code: e.error.code };
  return { message: e instanceof Error ? e.message : String(e), hint: null, code: 'INTERNAL' };
}

/** One line: the message followed by its hint. */
export function errText(e: unknown): string {
  if (e instanceof BridgeError) return e.error.hint ? `${e.error.message} ${e.error.hint}` : e.error.message;
  return e instanceof Error ? e.message : String(e);
}

export function errCode(e: unknown): string | null {
  return e instanceof BridgeError ? e.error.code : null;
}
