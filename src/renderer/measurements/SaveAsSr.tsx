/**
 * "Save as SR" in the measurements panel: the open study's saved measurements written as a DICOM TID 1500
 * Measurement Report (measurements.sr.save), which joins the study as an SR series; a result line says what
 * went in and what did not.
 */
import { useState } from 'react';
import { BridgeError, call } from '../bridge';
import type { MeasurementReportSaveResult } from '../../shared/api';

function summary(r: MeasurementReportSaveResult): string {
  const kinds = Object.entries(r.byKind)
    .map(([k, n]) => `${n} ${KIND_WORDS[k] ?? k}`)
    .join(', ');
  const skipped = r.skipped.length ? ` ${r.skipped.length} not written: ${[...new Set(r.skipped.map((s) => s.reason))].join('; ')}.` : '';
  return `Saved as SR: ${r.written} measurement(s) (${kinds}) on ${r.images} image(s), now an SR series of the study.${skipped}`;
}
const KIND_WORDS: Record<string, string> = { length: 'length', angle: 'angle', rectangleRoi: 'rectangle ROI', ellipticalRoi: 'ellipse ROI' };

export function SaveAsSr({ seriesId }: { seriesId: number | null }) {
  const [busy, setBusy] = useState(false);
  const [line, setLine] = useState<{ ok: boolean; text: string } | null>(null);
  const save = async () => {
    if (seriesId === null) return;
    setBusy(true);
    setLine({ ok: true, text: 'Writing the Measurement Report…' });
    try {
      setLine({ ok: true, text: summary(await call('measurements.sr.save', { seriesId, wholeStudy: true })) });
    } catch (err) {
      const e = err instanceof BridgeError ? err.error : null;
      setLine({ ok: false, text: e ? `${e.message}${e.hint ? ` ${e.hint}` : ''}` : String(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="meas-sr">
      <button
        type="button"
        className="btn"
        data-testid="save-as-sr"
        disabled={busy || seriesId === null}
        onClick={() => void save()}
        title="Write the study's saved measurements as a DICOM Structured Report (TID 1500 Measurement Report) that other viewers and PACS read"
      >
        Save as SR
      </button>
      {line && (
        <p className={line.ok ? 'meas-sr__line' : 'meas-sr__line meas-sr__line--error'} role={line.ok ? 'status' : 'alert'} data-testid="save-as-sr-result">
          {line.text}
        </p>
      )}
    </div>
  );
}
