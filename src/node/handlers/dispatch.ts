import type { z } from 'zod';
import {
  channels,
  isChannel,
  type Channel,
  type ParsedRequestOf,
  type ResponseOf,
} from '../../shared/api';
import { AppError, ErrorCode, type Result } from '../../shared/errors';
import type { Logger } from '../log';

/** Who is calling. The Electron glue and the e2e rig both decide `trusted` from the caller's frame. */
export interface Sender {
  /** URL of the calling frame, for the log. */
  url: string;
  /** True only for the app's own window showing the app's own origin. */
  trusted: boolean;
}

export interface HandlerContext {
  sender: Sender;
}

export type Handler<C extends Channel> = (
  request: ParsedRequestOf<C>,
  ctx: HandlerContext,
) => Promise<ResponseOf<C>> | ResponseOf<C>;

export type HandlerTable = { [C in Channel]: Handler<C> };

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(request)'}: ${i.message}`)
    .join('; ');
}

/**
 * The single entry point for every bridge call: checks the sender, the channel and the
 * arguments, runs the handler, and turns any failure into a typed, user-readable error.
 */
export async function dispatch(
  table: HandlerTable,
  channel: unknown,
  rawRequest: unknown,
  sender: Sender,
  log?: Logger,
): Promise<Result<unknown>> {
  if (!sender.trusted) {
    log?.warn('rejected call from untrusted sender', { url: sender.url, channel: String(channel) });
    return fail(new AppError(ErrorCode.ForbiddenSender, 'This request did not come from the MedImgShr window.'));
  }
  if (!isChannel(channel)) {
    return fail(new AppError(ErrorCode.UnknownChannel, `Unknown request "${String(channel)}".`));
  }
  const parsed = channels[channel].request.safeParse(rawRequest ?? {});
  if (!parsed.success) {
    return fail(
      new AppError(ErrorCode.InvalidArgument, `Invalid request for ${channel}: ${describeIssues(parsed.error)}.`),
    );
  }
  try {
    const handler = table[channel] as Handler<Channel>;
    const value = await handler(parsed.data as ParsedRequestOf<Channel>, { sender });
    return { ok: true, value };
  } catch (err) {
    if (err instanceof AppError) return fail(err);
    log?.error(`handler ${channel} failed`, err);
    return fail(
      new AppError(
        ErrorCode.Internal,
        'Something went wrong inside MedImgShr.',
        'Try again; if it keeps happening, send the log file from the app-data folder (logs/main.log) to support.',
      ),
    );
  }
}

function fail(err: AppError): Result<never> {
  return { ok: false, error: err.toJSON() };
}
