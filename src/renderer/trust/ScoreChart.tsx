/**
 * A credit score over time as an SVG step chart (a score holds until the next change), with the
 * thresholds that matter drawn as labelled dashed lines. Each change is a point whose tooltip gives
 * the date, the delta, the reason in plain words and who caused it.
 */
import type { ScoreChange } from '../../shared/api';
import { partyName, signed, when } from '../format';

export interface ChartThreshold {
  value: number;
  label: string;
  tone: 'bad' | 'warn' | 'neutral';
}

interface Props {
  history: ScoreChange[];
  current: number | null;
  thresholds: ChartThreshold[];
  label: string;
  testId?: string;
  width?: number;
  height?: number;
}

const PAD = { l: 40, r: 104, t: 12, b: 22 };

export function ScoreChart({ history, current, thresholds, label, testId, width = 440, height = 150 }: Props) {
  const values = history.map((h) => h.newScore);
  if (current !== null) values.push(current);
  const all = [...values, ...thresholds.map((t) => t.value)];
  if (!all.length) return <p className="trust__none">No score yet.</p>;
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  const pad = Math.max(4, (hi - lo) * 0.12);
  lo = Math.max(0, Math.floor(lo - pad));
  hi = Math.min(1000, Math.ceil(hi + pad));
  if (hi === lo) hi = lo + 1;

  // x: block time when every change has one, else the order of the changes.
  const timed = history.length > 0 && history.every((h) => h.time);
  const now = Date.now();
  const xs = history.map((h, i) => (timed ? new Date(h.time!).getTime() : i));
  const x0 = xs.length ? xs[0]! : 0;
  let x1 = timed ? Math.max(now, xs[xs.length - 1]! + 1) : Math.max(1, xs.length);
  if (x1 === x0) x1 = x0 + 1;
  const iw = width - PAD.l - PAD.r;
  const ih = height - PAD.t - PAD.b;
  const X = (v: number) => PAD.l + ((v - x0) / (x1 - x0)) * iw;
  const Y = (v: number) => PAD.t + (1 - (v - lo) / (hi - lo)) * ih;

  let d = '';
  history.forEach((h, i) => {
    const x = X(xs[i]!);
    const y = Y(h.newScore);
    d += i === 0 ? `M${x.toFixed(1)},${y.toFixed(1)}` : `H${x.toFixed(1)}V${y.toFixed(1)}`;
  });
  const last = history.length ? history[history.length - 1]!.newScore : current;
  if (history.length) d += `H${(PAD.l + iw).toFixed(1)}`;
  else if (current !== null) d = `M${PAD.l},${Y(current).toFixed(1)}H${PAD.l + iw}`;

  const axisTicks = [lo, hi];
  const startLabel = timed ? when(history[0]!.time) : history.length ? 'first change' : '';
  const endLabel = timed ? 'now' : history.length ? 'latest' : '';

  return (
    <svg
      className="chart"
      role="img"
      aria-label={`${label}: ${last ?? 'unknown'}; ${history.length} change(s)`}
      data-testid={testId}
      data-points={history.length}
      viewBox={`0 0 ${width} ${height}`}
      width="100%"
      preserveAspectRatio="xMidYMid meet"
    >
      <rect x={PAD.l} y={PAD.t} width={iw} height={ih} className="chart__plot" />
      {axisTicks.map((v) => (
        <text key={`t${v}`} x={PAD.l - 6} y={Y(v) + 4} className="chart__tick" textAnchor="end">
          {v}
        </text>
      ))}
      {thresholds
        .filter((t) => t.value >= lo && t.value <= hi)
        .map((t) => (
          <g key={t.label} className={`chart__thr chart__thr--${t.tone}`} data-testid="chart-threshold">
            <line x1={PAD.l} x2={PAD.l + iw} y1={Y(t.value)} y2={Y(t.value)} />
            <text x={PAD.l + iw + 6} y={Y(t.value) + 4}>
              {t.label} {t.value}
            </text>
          </g>
        ))}
      {d && <path d={d} className="chart__line" />}
      {history.map((h, i) => (
        <circle key={`${h.txHash}-${i}`} cx={X(xs[i]!)} cy={Y(h.newScore)} r={3.5} className={`chart__pt chart__pt--${h.delta > 0 ? 'up' : h.delta < 0 ? 'down' : 'flat'}`} data-testid="chart-point">
          <title>{`${when(h.time)} · ${signed(h.delta)} → ${h.newScore}\n${h.reason}\nby ${partyName(h.by)} · block ${h.block}`}</title>
        </circle>
      ))}
      {last !== null && last !== undefined && (
        <text x={PAD.l + iw - 4} y={Y(last) - 6} className="chart__last" textAnchor="end">
          {last}
        </text>
      )}
      <text x={PAD.l} y={height - 6} className="chart__tick">
        {startLabel}
      </text>
      <text x={PAD.l + iw} y={height - 6} className="chart__tick" textAnchor="end">
        {endLabel}
      </text>
    </svg>
  );
}
