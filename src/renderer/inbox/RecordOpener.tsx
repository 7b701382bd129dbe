import { useState } from 'react';
import type { OpenRecordResult } from '../../shared/api';
import { call } from '../bridge';
import { errorText, type UserError } from '../errors';
import { ErrorNotice } from '../settings/SettingsDialog';

/**
 * Secondary access by hand: paste a study record's root (from a referral, a colleague, the trust
 * panel); the record's storage URI is resolved to a PACS connection, the study retrieved and
 * verified against that record.
 */
export function RecordOpener() {
  const [root, setRoot] = useState('');
  const [study, setStudy] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<OpenRecordResult | null>(null);
  const [error, setError] = useState<UserError | null>(null);
  const valid = /^0x[0-9a-fA-F]{64}$/.test(root.trim());
  const open = async () => {
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(await call('secondary.openRecord', { root: root.trim(), ...(study.trim() ? { study: study.trim() } : {}) }));
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="inbox__detail" data-testid="record-opener">
      <p className="modal__note">
        A record on the ledger says where its images are kept. Paste its root: MedImgShr finds that PACS among your connections,
        retrieves the study and checks it against the record.
      </p>
      <div className="inbox__record">
        <input aria-label="Study root" placeholder="0x… (64 hex digits)" value={root} onChange={(e) => setRoot(e.target.value)} spellCheck={false} />
        <button type="button" className="btn btn--primary" disabled={!valid || busy} onClick={() => void open()} data-testid="open-record">
          {busy ? 'Retrieving…' : 'Open from its store'}
        </button>
        <input aria-label="Study Instance UID (optional)" placeholder="Study Instance UID — only if this workstation did not anchor it" value={study} onChange={(e) => setStudy(e.target.value)} spellCheck={false} />
      </div>
      {error && (
        <ErrorNotice error={error} testId="open-record-error" hintIsValue />
      )}
      {result && (
        <div data-testid="open-record-result" data-state={result.state}>
          <p className="inbox__verdict" data-verified={String(result.state === 'verified')}>{result.message}</p>
          <dl>
            <dt>Store</dt>
            <dd>
              {result.store.connection} <span className="mono">({result.store.uri})</span>
            </dd>
            <dt>Study</dt>
            <dd className="mono">{result.studyInstanceUid}</dd>
            <dt>Retrieved</dt>
            <dd>
              {result.retrieved.received} of {result.retrieved.listed} image(s) by {result.retrieved.via}
              {result.retrieved.failed ? `, ${result.retrieved.failed} failed` : ''}
            </dd>
            <dt>Record</dt>
            <dd className="mono">
              {result.record.leafCount} image(s), anchored {new Date(result.record.time).toLocaleString()}
            </dd>
            {result.differs.length > 0 && (
              <>
                <dt>Differs</dt>
                <dd>{result.differs.join(', ')}</dd>
              </>
            )}
          </dl>
        </div>
      )}
    </div>
  );
}
