/** The checks of an export or share gate: each with its outcome and, when it fails, what would change it. */
export function GateChecks({
  checks,
  remedyPrefix = '',
}: {
  checks: readonly { code: string; ok: boolean; message: string; remedy?: string | null }[];
  remedyPrefix?: string;
}) {
  return (
    <ul className="tchecks">
      {checks.map((c) => (
        <li key={c.code} className={c.ok ? 'ok' : 'no'} data-code={c.code} data-ok={String(c.ok)}>
          <span className="tchecks__mark" aria-hidden="true">
            {c.ok ? '✓' : '✕'}
          </span>
          <span>
            {c.message}
            {c.remedy && <span className="tchecks__remedy">{remedyPrefix}{c.remedy}</span>}
          </span>
        </li>
      ))}
    </ul>
  );
}
