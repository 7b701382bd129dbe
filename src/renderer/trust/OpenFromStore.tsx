import { useEffect, useState } from 'react';
import type { OpenRecordResult, RecordStoreCheck } from '../../shared/api';
import { call } from '../bridge';
import { errText } from '../errors';

/**
 * "Open from its store" on a study record whose images are not in this library (secondary access):
 * the record's storage URI → the configured PACS → retrieve → verified against this record.
 * Shows nothing when the images are here or the record names no PACS (a blob store).
 */
export function OpenFromStore({ root }: { root: string }) {
  const [check, setCheck] = useState<RecordStoreCheck | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<OpenRecordResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    call('secondary.check', { root }).then(setCheck, () => setCheck(null));
  }, [root]);
  if (!check || check.inLibrary || check.storageUri.startsWith('medimg-blob:')) return null;
  const open = async () => {
    setBusy(true);
    setError(null);
    try {
      setResult(await call('secondary.openRecord', { root }));
    } catch (e) {
      setError(errText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="open-store" data-testid="open-from-store" style={{ fontFamily: "var(--font)", whiteSpace: "normal", marginTop: 4 }}>
      <button type="button" className="btn btn--small" disabled={busy || !check.connection} onClick={() => void open()} title={check.connection ? `Retrieve from ${check.connection} (${check.storageUri}) and verify against this record` : (check.hint ?? '')}>
        {busy ? 'Retrieving…' : 'Open from its store'}
      </button>
      {!check.connection && <div className="trust__sub" data-testid="open-from-store-problem">{check.problem} {check.hint}</div>}
      {result && (
        <div className="trust__sub" data-testid="open-from-store-result" data-state={result.state}>
          {result.message}
        </div>
      )}
      {error && <div className="trust__sub" role="alert">{error}</div>}
    </div>
  );
}
