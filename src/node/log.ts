import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

/** A plain append-only log in the app-data folder; stack traces go here, never to the UI. */
export interface Logger {
  info(msg: string, extra?: Record<string, unknown>): void;
  warn(msg: string, extra?: Record<string, unknown>): void;
  error(msg: string, err?: unknown, extra?: Record<string, unknown>): void;
}

export function fileLogger(logDir: string, name = 'main.log'): Logger {
  const path = join(logDir, name);
  const write = (level: string, msg: string, extra?: Record<string, unknown>) => {
    const line = JSON.stringify({ t: new Date().toISOString(), level, msg, ...extra });
    try {
      appendFileSync(path, line + '\n');
    } catch {
      // logging must never take the app down
    }
  };
  return {
    info: (m, e) => write('info', m, e),
    warn: (m, e) => write('warn', m, e),
    error: (m, err, e) =>
      write('error', m, {
        ...e,
        error: err instanceof Error ? { message: err.message, stack: err.stack } : String(err),
      }),
  };
}
