import { AppError } from '../shared/errors';

/** Prints either JSON (for scripts) or the human rendering (for people). */
export function print(json: boolean, value: unknown, human: () => string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : human() + '\n');
}

/** Errors: one plain sentence (plus what to do) for people; a JSON error object for scripts. */
export function printError(json: boolean, err: unknown): void {
  const e =
    err instanceof AppError
      ? err.toJSON()
      : { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
  if (json) process.stdout.write(JSON.stringify({ error: e }, null, 2) + '\n');
  else process.stderr.write(`error: ${e.message}${'hint' in e && e.hint ? `\n  what to do: ${e.hint}` : ''}\n`);
}

export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}
