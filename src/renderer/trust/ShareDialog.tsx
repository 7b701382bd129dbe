/**
 * Share: choose the recipient institution from the chain's registry (score, status), see the trust
 * panel and the gate's decision with every reason; when the patient's consent is missing and the
 * patient's identity is on this workstation, the patient unlocks it with their passphrase and signs
 * the EIP-712 consent here; once allowed the package is built and its storage address shown.
 */
import '../settings/split-storage.css';
import { useCallback, useEffect, useState } from 'react';
import type { ConsentResult, IdentitySummary, KeyCard, RegistryInstitution, ShareDecision, ShareResult } from '../../shared/api';
import { call } from '../bridge';
import { errorText } from '../errors';
import { ledgerDetail, megabytes, partyName, short, shortHash, when } from '../format';
import type { OpenStudy, TrustState } from './hooks';
import { TrustPanelView } from './TrustPanel';
import { TrustModal } from './TrustModal';
import { ProgressBar, useTaskProgress } from '../shell/useTask';
import { ErrorBox } from './ErrorBox';
import { GateChecks } from './GateChecks';
import { consentLengthInWords, dateInWords, studyInWords } from '../../shared/words';
import { detectWallet, signConsentInWallet, type Eip1193 } from '../identity/wallet';

interface Props {
  open: OpenStudy;
  trust: TrustState;
  onClose(): void;
  onShowAudit(): void;
}

type Err = { message: string; hint: string | null } | null;

export function ShareDialog({ open, trust, onClose, onShowAudit }: Props) {
  const uid = open.study.studyInstanceUid;
  const [registry, setRegistry] = useState<RegistryInstitution[] | null>(null);
  const [registryError, setRegistryError] = useState<Err>(null);
  const [recipient, setRecipient] = useState<string | null>(null);
  const [decision, setDecision] = useState<ShareDecision | null>(null);
  const [gating, setGating] = useState(false);
  const [gateError, setGateError] = useState<Err>(null);
  const [consentStep, setConsentStep] = useState(false);
  const [patientIds, setPatientIds] = useState<IdentitySummary[]>([]);
  const [passphrase, setPassphrase] = useState('');
  const [scope, setScope] = useState<'study' | 'all'>('study');
  const [days, setDays] = useState(90);
  const [signing, setSigning] = useState(false);
  const [consent, setConsent] = useState<ConsentResult | null>(null);
  const [consentError, setConsentError] = useState<Err>(null);
  const [sending, setSending] = useState(false);
  /** Share by metadata (docs/split-storage.md): only the metadata parts and keys; the pixels stay in the pixel store. */
  const [byMetadata, setByMetadata] = useState(false);
  const [result, setResult] = useState<ShareResult | null>(null);
  const [sendError, setSendError] = useState<Err>(null);
  const [addingPartner, setAddingPartner] = useState(false);
  const [cardText, setCardText] = useState('');
  const [cardError, setCardError] = useState<string | null>(null);
  const { progress } = useTaskProgress('share', sending);
  const [wallet, setWallet] = useState<Eip1193 | null>(null);
  const [walletBusy, setWalletBusy] = useState(false);
  const [walletError, setWalletError] = useState<Err>(null);
  useEffect(() => {
    let alive = true;
    void detectWallet().then((p) => alive && setWallet(p));
    return () => {
      alive = false;
    };
  }, []);

  /** The patient signs the EIP-712 consent in the browser wallet; the main process checks the signer, then submits. */
  const signInWallet = async () => {
    if (!wallet || !recipient) return;
    setWalletBusy(true);
    setWalletError(null);
    try {
      const r = await signConsentInWallet(wallet, { kind: 'consent', studyInstanceUid: uid, recipient, scope, days });
      setConsent({ ...r, expiresAt: r.expiresAt ?? '' });
      await gate(recipient);
      trust.refresh();
    } catch (e) {
      setWalletError(errorText(e));
    } finally {
      setWalletBusy(false);
    }
  };

  const loadRegistry = useCallback(async () => {
    try {
      const r = await call('trust.institutions', {});
      setRegistry(r.institutions);
      setRegistryError(r.ledger.reachable ? null : { message: `Ledger unreachable: ${r.ledger.message ? ledgerDetail(r.ledger.message) : 'the registry below is the copy synced earlier.'}`, hint: null });
    } catch (e) {
      setRegistryError(errorText(e));
    }
  }, []);
  useEffect(() => void loadRegistry(), [loadRegistry]);
  useEffect(() => {
    call('identity.list', {}).then(
      (r) => setPatientIds(r.identities),
      () => undefined,
    );
  }, []);

  const gate = useCallback(
    async (to: string) => {
      setGating(true);
      setGateError(null);
      setDecision(null);
      try {
        setDecision(await call('share.gate', { studyInstanceUid: uid, recipient: to }));
      } catch (e) {
        setDecision(null);
        setGateError(errorText(e));
      } finally {
        setGating(false);
      }
    },
    [uid],
  );

  const choose = (to: string) => {
    setRecipient(to);
    setConsentStep(false);
    setConsent(null);
    setConsentError(null);
    setResult(null);
    setSendError(null);
    void gate(to);
  };

  const addPartner = async () => {
    setAddingPartner(true);
    try {
      const p = await call('share.demoPartner', {});
      await loadRegistry();
      choose(p.address);
    } catch (e) {
      setRegistryError(errorText(e));
    } finally {
      setAddingPartner(false);
    }
  };

  const sign = async () => {
    if (!decision?.patientIdentityHere || !recipient) return;
    setSigning(true);
    setConsentError(null);
    try {
      const r = await call('share.collectConsent', { studyInstanceUid: uid, recipient, patientIdentity: decision.patientIdentityHere, passphrase, scope, days });
      setConsent(r);
      setPassphrase('');
      setConsentStep(false);
      await gate(recipient);
      trust.refresh();
    } catch (e) {
      setConsentError(errorText(e));
    } finally {
      setSigning(false);
    }
  };

  const importCard = async () => {
    setCardError(null);
    try {
      // The main process checks the card's shape and recovers the key from its signature.
      const card = JSON.parse(cardText) as KeyCard;
      await call('share.importKeyCard', { card });
      setCardText('');
      await loadRegistry();
      if (recipient) await gate(recipient);
    } catch (e) {
      setCardError(e instanceof SyntaxError ? 'That is not a key card (JSON expected).' : errorText(e).message);
    }
  };

  const send = async () => {
    if (!recipient) return;
    setSending(true);
    setSendError(null);
    try {
      setResult(await call('share.send', { studyInstanceUid: uid, recipient, ...(byMetadata ? { byMetadata: true } : {}) }));
      trust.refresh();
    } catch (e) {
      setSendError(errorText(e));
    } finally {
      setSending(false);
    }
  };

  const others = registry?.filter((i) => !i.self) ?? [];
  const failing = decision?.checks.filter((c) => !c.ok) ?? [];
  const consentMissing = failing.some((c) => c.code === 'consent');
  const keyMissing = failing.some((c) => c.code === 'recipient-key');
  const patientHere = decision?.patientIdentityHere ? patientIds.find((i) => i.address.toLowerCase() === decision.patientIdentityHere!.toLowerCase()) : undefined;
  const chosen = registry?.find((i) => i.party.address === recipient);

  return (
    <TrustModal label="Share" testId="share-dialog" title="Share with another institution" trustPanel={<TrustPanelView open={open} trust={trust} embedded />} onClose={onClose} busy={sending || signing}>

      {result ? (
        <div className="treport" data-testid="share-result">
          <h3 className="treport__title treport__title--ok">Shared with {partyName(result.decision.recipient)}</h3>
          <p>{result.message}</p>
          <dl className="tdl">
            <dt>What is sent</dt>
            <dd data-testid="share-what">{result.sent ?? `${result.instances} image(s)`}</dd>
            <dt>How it arrives</dt>
            <dd data-testid="share-how">{result.delivery ?? 'Encrypted for the recipient.'}</dd>
            <dt>Images</dt>
            <dd>{result.instances}, encrypted for the recipient (AES-256-GCM, key wrapped to its public key)</dd>
            <dt>Storage address</dt>
            <dd className="mono" data-testid="share-storage">
              {result.storageUri}
            </dd>
            <dt>Package</dt>
            <dd className="mono" title={result.path}>
              {shortHash(result.address)} · {megabytes(result.size)}
            </dd>
            <dt>Record on chain</dt>
            <dd className="mono">{shortHash(result.decision.root)}</dd>
            <dt>Audit log</dt>
            <dd>
              entry #{result.auditSeq}{' '}
              <button type="button" className="btn btn--link" onClick={onShowAudit}>
                Open audit log
              </button>
            </dd>
          </dl>
          <p className="trust__fine">
            The recipient fetches the package from the storage address, decrypts it, verifies every image against the record on chain, and its access is recorded on
            chain — it then appears under Accesses in the trust panel.
          </p>
          <div className="tmodal__foot">
            <button type="button" className="btn btn--primary" onClick={onClose}>
              Done
            </button>
          </div>
        </div>
      ) : (
        <>
          <section className="tfield" aria-label="Recipient">
            <h3 className="tfield__title">Recipient institution (chain registry)</h3>
            {registryError && (
              <p className="trust__err">
                {registryError.message} {registryError.hint ?? ''}
              </p>
            )}
            {!registry && !registryError && <p className="trust__none">Reading the registry…</p>}
            {registry && (
              <div className="treg" role="radiogroup" aria-label="Recipient institution" data-testid="share-registry">
                {registry.map((i) => (
                  <label
                    key={i.party.address}
                    className={`treg__row${recipient === i.party.address ? ' treg__row--on' : ''}${i.self ? ' treg__row--self' : ''}`}
                    data-testid="registry-row"
                    data-address={i.party.address}
                  >
                    <input type="radio" name="recipient" checked={recipient === i.party.address} disabled={i.self || sending} onChange={() => choose(i.party.address)} />
                    <span className="treg__name">
                      {partyName(i.party)}
                      {i.self && <span className="trust__sub"> (your institution)</span>}
                      <span className="trust__sub mono">{short(i.party.address)}</span>
                    </span>
                    <span className="treg__score" title="credit score">
                      {i.score}
                    </span>
                    <span className="treg__status">
                      {i.suspended && <span className="chip chip--altered">suspended</span>}
                      {!i.active && <span className="chip chip--altered">deregistered</span>}
                      <span className={`chip ${i.canReceive ? 'chip--verified' : 'chip--altered'}`}>{i.canReceive ? 'may receive' : 'may not receive'}</span>
                      {!i.publicKeyKnown && !i.self && <span className="chip chip--not-registered">key unknown</span>}
                    </span>
                  </label>
                ))}
                {others.length === 0 && (
                  <div className="trust__none">
                    No other institution is registered on this chain.{' '}
                    <button type="button" className="btn btn--small" onClick={() => void addPartner()} disabled={addingPartner} data-testid="add-demo-partner">
                      {addingPartner ? 'Adding…' : 'Add the DEMO partner hospital'}
                    </button>
                  </div>
                )}
              </div>
            )}
          </section>

          {recipient && (
            <section className={`tgate${decision ? (decision.allowed ? ' tgate--ok' : ' tgate--no') : ''}`} data-testid="share-gate" data-allowed={decision ? String(decision.allowed) : ''}>
              <h3>
                {gating
                  ? `Checking the rules for ${chosen ? partyName(chosen.party) : short(recipient)}…`
                  : decision
                    ? decision.allowed
                      ? `Allowed: ${partyName(decision.recipient)} may receive this study`
                      : `Denied: ${partyName(decision.recipient)} may not receive this study`
                    : 'Not checked'}
              </h3>
              {gateError && (
                <p className="trust__err">
                  {gateError.message} {gateError.hint ?? ''}
                </p>
              )}
              {decision && (
                <>
                  <GateChecks checks={decision.checks} remedyPrefix="What would change it: " />
                  {decision.contract && <p className="trust__fine">The contract says: {decision.contract.text}. Checked {when(decision.checkedAt)}.</p>}
                </>
              )}
              {consent && (
                <p className="trust__ok" data-testid="consent-signed">
                  The patient signed the consent (EIP-712); submitted by {short(consent.submittedBy)} in block {consent.block}, tx {shortHash(consent.txHash)}. Valid until {dateInWords(consent.expiresAt)}.
                </p>
              )}
              {decision && consentMissing && !consentStep && (
                <div className="tconsent-ask">
                  {decision.patientIdentityHere ? (
                    <button type="button" className="btn btn--primary" onClick={() => setConsentStep(true)} data-testid="ask-consent">
                      Ask the patient for consent
                    </button>
                  ) : (
                    <p className="trust__fine">
                      The patient&apos;s identity is not on this workstation: the patient grants consent from their own wallet (account{' '}
                      <span className="mono">{short(decision.patient)}</span>), then check again.
                    </p>
                  )}
                  {wallet && (
                    <button type="button" className="btn" onClick={() => void signInWallet()} disabled={walletBusy} data-testid="wallet-consent">
                      {walletBusy ? 'Waiting for the wallet…' : 'Patient signs in browser wallet'}
                    </button>
                  )}
                  <button type="button" className="btn" onClick={() => recipient && void gate(recipient)} disabled={gating}>
                    Check again
                  </button>
                </div>
              )}
              {walletError && (
                <p className="trust__err" role="alert" data-testid="wallet-consent-error">
                  {walletError.message} {walletError.hint ?? ''}
                </p>
              )}
            </section>
          )}

          {decision && keyMissing && (
            <section className="tconsent" aria-label="Recipient key card" data-testid="key-card-step">
              <h3>The recipient&apos;s key card</h3>
              <p>
                The package is encrypted to {partyName(decision.recipient)}&apos;s public key. Paste the key card it gave you (from{' '}
                <span className="mono">medimgshr share-key export</span>); its signature proves the key belongs to that address.
              </p>
              <textarea className="tcard" aria-label="Key card" rows={4} value={cardText} onChange={(e) => setCardText(e.target.value)} placeholder='{"format":"medimgshr-key-card/1", …}' />
              {cardError && <p className="trust__err">{cardError}</p>}
              <div className="tmodal__foot">
                <button type="button" className="btn btn--primary" disabled={!cardText.trim()} onClick={() => void importCard()}>
                  Import key card
                </button>
              </div>
            </section>
          )}

          {consentStep && decision?.patientIdentityHere && (
            <section className="tconsent" data-testid="consent-step" aria-label="Patient consent">
              <h3>Patient consent — for the patient to fill in</h3>
              <div className="tconsent__text" data-testid="consent-text">
                <p>
                  I, <strong>{patientHere ? patientHere.displayName : 'the patient'}</strong> <span className="mono trust__sub">{short(decision.patientIdentityHere)}</span>, allow{' '}
                  <strong data-testid="consent-recipient">{partyName(decision.recipient)}</strong> to receive{' '}
                  <strong data-testid="consent-study">{scope === 'study' ? studyInWords(open.study) : 'all of my studies'}</strong>{' '}
                  <strong data-testid="consent-expiry">{consentLengthInWords(days)}</strong>.
                </p>
                <p>
                  <strong>Purpose:</strong> {partyName(decision.recipient)} receives a copy of the images as they were acquired, with my name and details on them, so that its
                  clinicians can look at them for my care (for example a second opinion or a referral). The copy is encrypted to {partyName(decision.recipient)} and every
                  time it opens the images, that is recorded on the ledger.
                </p>
                <p>
                  I can revoke this consent at any time from the trust panel or my patient console; after that no new share or access under it is allowed. My key signs
                  it on this workstation (EIP-712); the key never leaves the main process and the clinician&apos;s session stays as it is.
                </p>
              </div>
              <div className="tconsent__grid">
                <label>
                  Scope
                  <select aria-label="Consent scope" value={scope} onChange={(e) => setScope(e.target.value as 'study' | 'all')}>
                    <option value="study">This study only</option>
                    <option value="all">All the patient&apos;s studies</option>
                  </select>
                </label>
                <label>
                  Days
                  <input type="number" aria-label="Consent days" min={1} max={730} value={days} onChange={(e) => setDays(Math.max(1, Math.min(730, Number(e.target.value) || 1)))} />
                </label>
                <label className="tconsent__pass">
                  Patient&apos;s passphrase
                  <input
                    type="password"
                    aria-label="Patient passphrase"
                    autoComplete="off"
                    value={passphrase}
                    onChange={(e) => setPassphrase(e.target.value)}
                    onKeyDown={(e) => e.key === 'Enter' && passphrase && void sign()}
                  />
                </label>
              </div>
              {consentError && (
                <p className="trust__err" role="alert" data-testid="consent-error">
                  {consentError.message} {consentError.hint ?? ''}
                </p>
              )}
              <div className="tmodal__foot">
                <button type="button" className="btn" onClick={() => setConsentStep(false)} disabled={signing}>
                  Cancel
                </button>
                <button type="button" className="btn btn--primary" onClick={() => void sign()} disabled={!passphrase || signing} data-testid="sign-consent">
                  {signing ? 'Signing…' : 'Sign consent'}
                </button>
              </div>
            </section>
          )}

          {sending && <ProgressBar progress={progress} label="Building the encrypted package" />}
          {sendError && <ErrorBox title="Share failed" error={sendError} testId="share-error" />}
          {!consentStep && (
            <label className="tshare__mode" title="The recipient fetches the encrypted Pixel Data from your pixel store and rebuilds the original files (Settings → Storage)">
              <input type="checkbox" checked={byMetadata} disabled={sending} onChange={(e) => setByMetadata(e.target.checked)} data-testid="share-by-metadata" />
              Send by metadata only: the images' metadata and keys, the pixels stay in the pixel store
            </label>
          )}
          {!consentStep && (
            <div className="tmodal__foot">
              <button type="button" className="btn" onClick={onClose} disabled={sending}>
                Close
              </button>
              <button type="button" className="btn btn--primary" disabled={!decision?.allowed || sending || gating} onClick={() => void send()} data-testid="share-send">
                {sending ? 'Sharing…' : 'Share'}
              </button>
            </div>
          )}
        </>
      )}
    </TrustModal>
  );
}
