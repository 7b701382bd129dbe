/**
 * The trust panel's data (docs/trust-and-sharing.md): everything is read from the synced SQLite copy
 * of the chain's events (migration 005, filled by src/node/ledger/sync.ts); the chain itself is asked
 * only for what the copy cannot know (is it reachable now, the policy numbers, the verification of
 * each instance, canAccess). One per app, built by the composition root (src/node/services.ts).
 */
import { getAddress } from 'ethers';
import { AccessBasis, CREDIT_POLICY, DENIAL_TEXT, SCORE_REASON_TEXT, institutionCapabilities, type CreditPolicy, type DenialCode } from '../../core/credit-policy';
import { AuditLog, thisWorkstation, workstationActor, type AuditInput, type AuditEntry } from '../audit';
import { ALL_STUDIES } from '../ledger/contracts';
import type { AppContext } from '../context';
import type { IdentityService } from '../identity';
import { LedgerSettings, type LedgerService, type ChainConnection } from '../ledger';
import { knownPublicKey, type KeyDeps } from '../ledger/public-keys';
import type {
  AccessView,
  ChainRef,
  ConsentView,
  HistoryEntry,
  HistoryFilter,
  InstitutionStatus,
  LedgerFreshness,
  PartyRef,
  RecordVersion,
  RegistryInstitution,
  ScoreChange,
  Threshold,
  TrustPanel,
} from '../../shared/api/trust';
import { AppError, ErrorCode } from '../../shared/errors';
import { dateInWords } from '../../shared/words';

/** Plain words for a ScoreChanged reason code (the one place: src/core/credit-policy.ts). */
export function scoreReasonText(code: number): string {
  return SCORE_REASON_TEXT[code] ?? (code >= CREDIT_POLICY.regulatorReasonMin ? `regulator adjustment (code ${code})` : `reason code ${code}`);
}

export function denialText(code: number): string {
  return DENIAL_TEXT[code as DenialCode] ?? `denied (code ${code})`;
}

export const BASIS_TEXT: Record<number, string> = {
  [AccessBasis.StudyConsent]: "allowed by the patient's consent for this study",
  [AccessBasis.AllStudiesConsent]: "allowed by the patient's consent for all their studies",
  [AccessBasis.OwnInstitution]: 'the institution that anchored the record (no consent needed)',
};

const iso = (unix: number | null | undefined): string | null => (unix === null || unix === undefined ? null : new Date(unix * 1000).toISOString());

interface Base {
  block_number: number;
  block_time: number | null;
  tx_hash: string;
  log_index: number;
}

const ref = (r: Base): ChainRef => ({ block: r.block_number, txHash: r.tx_hash, time: iso(r.block_time) });

/** Thresholds that matter to the panel, from the policy numbers. */
export function thresholdsOf(p: CreditPolicy | Record<keyof CreditPolicy, number>): Threshold[] {
  return [
    { key: 'receiveThreshold', value: p.receiveThreshold, appliesTo: 'institution', meaning: 'below this an institution receives no new consents and every access to it is denied; sharing needs both parties at or above it' },
    { key: 'anchorThreshold', value: p.anchorThreshold, appliesTo: 'institution', meaning: "below this an institution's clinicians can no longer anchor studies" },
    { key: 'startScore', value: p.startScore, appliesTo: 'both', meaning: 'every new patient and institution starts here' },
    { key: 'minScore', value: p.minScore, appliesTo: 'both', meaning: 'lowest possible score' },
    { key: 'maxScore', value: p.maxScore, appliesTo: 'both', meaning: 'highest possible score' },
    { key: 'patientRewardCapPerPeriod', value: p.patientRewardCapPerPeriod, appliesTo: 'patient', meaning: `most points a patient can earn from accesses in one ${Math.round(p.rewardPeriodSeconds / 86400)}-day period (a patient's score gates nothing)` },
  ];
}

export class TrustService {
  readonly audit: AuditLog;
  private policyCache: { key: string; policy: CreditPolicy } | null = null;

  private readonly ctx: AppContext;
  private readonly identity: IdentityService;
  private readonly keys: KeyDeps;

  constructor(private readonly deps: { ctx: AppContext; identity: IdentityService; ledger: () => LedgerService }) {
    this.ctx = deps.ctx;
    this.identity = deps.identity;
    this.keys = { db: deps.ctx.db, identity: deps.identity };
    this.audit = new AuditLog(deps.ctx.db);
  }

  /** The ledger domain (built on first use: the audit log works without a ledger). */
  get ledger(): LedgerService {
    return this.deps.ledger();
  }

  /** Appends to the audit log and tells the UI. */
  appendAudit(input: AuditInput): AuditEntry {
    const e = this.audit.append(input);
    this.ctx.emit({ type: 'audit-appended', entry: e });
    return e;
  }

  /** Who is acting: the unlocked identity's address, else the workstation's OS user (workstation:<user>@<host>). */
  actor(): string {
    return this.identity.current()?.address ?? workstationActor(thisWorkstation());
  }

  // ---- chain scope ----

  /** The chain id + contract whose synced rows to read: the connected one, else the last synced. */
  async scope(): Promise<{ conn: ChainConnection | null; chainId: number | null; contract: string | null; freshness: LedgerFreshness }> {
    let conn: ChainConnection | null = null;
    let message: string | null = null;
    try {
      conn = await this.ledger.chain.connection();
      if (conn) {
        const c = conn;
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('the ledger did not answer within 5 s')), 5000);
          c.provider.getBlockNumber().then(
            () => (clearTimeout(timer), resolve()),
            (err: unknown) => (clearTimeout(timer), reject(err instanceof Error ? err : new Error(String(err)))),
          );
        });
      }
    } catch (err) {
      message = err instanceof Error ? err.message : String(err);
      conn = null;
    }
    if (!conn && !message) message = this.ledger.connection.monitor.current().message ?? 'the ledger is not connected';
    // Said once: the reason without the wrappers that already mean "unreachable" (the UI heads it "Ledger unreachable").
    message = message ? ledgerProblem(message) : message;
    const st = this.ledger.sync.statusFor(conn);
    return {
      conn,
      chainId: st.chainId,
      contract: st.contract,
      freshness: {
        reachable: conn !== null,
        message: conn ? null : `Ledger unreachable: ${(message ?? '').replace(/\.+$/, '')}. ${st.syncedAt ? `What is shown is the copy synced earlier${st.lastSyncedBlock !== null ? ` (to block ${st.lastSyncedBlock})` : ''}; it may be out of date.` : 'Nothing was synced from it yet.'}`,
        chainId: st.chainId,
        contract: st.contract,
        lastSyncedBlock: st.lastSyncedBlock,
        lastSyncedAt: st.syncedAt,
        head: st.head,
      },
    };
  }

  /** The contract's policy numbers (cached per contract), or the mirror when the chain cannot be asked. */
  async policy(conn: ChainConnection | null): Promise<{ policy: CreditPolicy; from: 'contract' | 'mirror' }> {
    if (!conn) return { policy: CREDIT_POLICY, from: 'mirror' };
    const key = `${conn.chainId}:${conn.address}`;
    if (this.policyCache?.key === key) return { policy: this.policyCache.policy, from: 'contract' };
    try {
      const n = (await conn.contract.creditPolicy()) as unknown as Record<string, bigint>;
      const policy = Object.fromEntries(Object.keys(CREDIT_POLICY).map((k) => [k, Number(n[k])])) as unknown as CreditPolicy;
      this.policyCache = { key, policy };
      return { policy, from: 'contract' };
    } catch {
      return { policy: CREDIT_POLICY, from: 'mirror' };
    }
  }

  // ---- parties ----

  private labels(): Map<string, string> {
    const m = new Map<string, string>();
    for (const i of this.identity.list()) m.set(i.address.toLowerCase(), i.displayName);
    const rows = new LedgerSettings(this.ctx.db).withPrefix('keycard:');
    for (const r of rows) {
      try {
        const c = JSON.parse(r.value) as { address: string; label: string | null };
        if (c.label && !m.has(c.address.toLowerCase())) m.set(c.address.toLowerCase(), c.label);
      } catch {
        /* ignore a damaged card */
      }
    }
    return m;
  }

  /** Display names of accounts this workstation knows (its identities, key cards of registered institutions), by address. */
  labelsOf(addresses: Iterable<string>): Record<string, string> {
    const labels = this.labels();
    const out: Record<string, string> = {};
    for (const a of addresses) {
      const l = labels.get(a.toLowerCase());
      if (l) out[a] = l;
    }
    return out;
  }

  private roleOf(chainId: number | null, contract: string | null, address: string): PartyRef['role'] {
    if (chainId === null || contract === null) return 'unknown';
    const rows = this.ctx.db
      .prepare('SELECT event, role FROM chain_roles WHERE chain_id = ? AND contract = ? AND account = ? ORDER BY block_number, log_index')
      .all(chainId, contract, address) as { event: string; role: string | null }[];
    const roles = new Set<string>();
    for (const r of rows) {
      if (r.event === 'RoleGranted' && r.role) roles.add(r.role);
      if (r.event === 'RoleRevoked' && r.role) roles.delete(r.role);
      if (r.event === 'InstitutionRegistered') roles.add('institution');
      if (r.event === 'ClinicianGranted') roles.add('clinician');
      if (r.event === 'PatientRegistered') roles.add('patient');
    }
    for (const r of ['regulator', 'institution', 'clinician', 'patient'] as const) if (roles.has(r)) return r;
    return 'unknown';
  }

  partyFactory(chainId: number | null, contract: string | null): (address: string) => PartyRef {
    const labels = this.labels();
    const cache = new Map<string, PartyRef>();
    return (address: string) => {
      const a = getAddress(address);
      let p = cache.get(a);
      if (!p) {
        p = { address: a, label: labels.get(a.toLowerCase()) ?? null, role: this.roleOf(chainId, contract, a) };
        cache.set(a, p);
      }
      return p;
    };
  }

  // ---- scores ----

  scoreHistory(chainId: number, contract: string, account: string, party: (a: string) => PartyRef): ScoreChange[] {
    const rows = this.ctx.db
      .prepare('SELECT * FROM chain_scores WHERE chain_id = ? AND contract = ? AND account = ? ORDER BY block_number, log_index')
      .all(chainId, contract, getAddress(account)) as (Base & { account: string; by: string; delta: number; reason: number; new_score: number })[];
    return rows.map((r) => ({
      ...ref(r),
      account: r.account,
      delta: r.delta,
      newScore: r.new_score,
      reasonCode: r.reason,
      reason: scoreReasonText(r.reason),
      by: party(r.by),
    }));
  }

  suspended(chainId: number, contract: string, institution: string): boolean {
    const r = this.ctx.db
      .prepare(
        "SELECT event FROM chain_roles WHERE chain_id = ? AND contract = ? AND account = ? AND event IN ('InstitutionSuspended', 'InstitutionReinstated') ORDER BY block_number DESC, log_index DESC LIMIT 1",
      )
      .get(chainId, contract, getAddress(institution)) as { event: string } | undefined;
    return r?.event === 'InstitutionSuspended';
  }

  /** The institution the unlocked identity acts for (itself, or its clinician role's institution). */
  actingInstitution(chainId: number | null, contract: string | null): { address: string | null; message: string | null } {
    const me = this.identity.current();
    if (!me) return { address: null, message: 'No identity is unlocked, so the acting institution is not known.' };
    const role = this.roleOf(chainId, contract, me.address);
    if (role === 'institution') return { address: me.address, message: null };
    if (chainId !== null && contract !== null) {
      const r = this.ctx.db
        .prepare("SELECT institution, event FROM chain_roles WHERE chain_id = ? AND contract = ? AND account = ? AND event IN ('ClinicianGranted','ClinicianRemoved') ORDER BY block_number DESC, log_index DESC LIMIT 1")
        .get(chainId, contract, me.address) as { institution: string; event: string } | undefined;
      if (r?.event === 'ClinicianGranted') return { address: getAddress(r.institution), message: null };
      if (r?.event === 'ClinicianRemoved') return { address: null, message: `${me.displayName} is no longer a clinician of any institution.` };
    }
    const hint = this.ledger.settings.get(`institution-of:${me.address}`);
    if (hint) return { address: getAddress(hint), message: null };
    return { address: null, message: `${me.displayName} is neither an institution nor a clinician of one on the ledger.` };
  }

  institutionStatus(chainId: number, contract: string, address: string, party: (a: string) => PartyRef, p: CreditPolicy): InstitutionStatus {
    const history = this.scoreHistory(chainId, contract, address, party);
    const score = history.at(-1)?.newScore ?? null;
    const suspended = this.suspended(chainId, contract, address);
    const caps = score === null ? { canReceive: false, canAnchor: false } : institutionCapabilities(score, p);
    return { institution: party(address), score, suspended, canReceive: caps.canReceive && !suspended, canAnchor: caps.canAnchor && !suspended, history };
  }

  // ---- the study's record, consents, accesses ----

  /** Roots of the study known here: local anchors, plus every version on chain of those. */
  studyIds(chainId: number, contract: string, studyInstanceUid: string): { studyIds: string[]; patient: string | null } {
    const anchors = this.ledger.anchors.ofStudy(studyInstanceUid);
    const ids = new Set<string>();
    let patient: string | null = null;
    for (const a of anchors) {
      const r = this.ctx.db
        .prepare('SELECT study, patient FROM chain_records WHERE chain_id = ? AND contract = ? AND root = ? LIMIT 1')
        .get(chainId, contract, a.root) as { study: string; patient: string } | undefined;
      if (r) {
        ids.add(r.study);
        patient ??= r.patient;
      }
    }
    if (!patient && anchors[0]) patient = anchors[0].patient;
    if (!patient) {
      const pk = this.ctx.db
        .prepare('SELECT p.patient_key AS pk FROM studies st JOIN patients p ON st.patient_ref = p.id WHERE st.study_uid = ?')
        .get(studyInstanceUid) as { pk: string } | undefined;
      if (pk) {
        const acc = this.ctx.db.prepare('SELECT address FROM ledger_patient_accounts WHERE patient_key = ?').get(pk.pk) as { address: string } | undefined;
        patient = acc?.address ?? null;
      }
    }
    return { studyIds: [...ids], patient: patient ? getAddress(patient) : null };
  }

  records(chainId: number, contract: string, studyIds: string[], party: (a: string) => PartyRef): RecordVersion[] {
    if (studyIds.length === 0) return [];
    const rows = this.ctx.db
      .prepare(
        `SELECT r.*, (SELECT uri FROM chain_storage s WHERE s.chain_id = r.chain_id AND s.contract = r.contract AND s.storage_id = r.storage_id LIMIT 1) AS uri
         FROM chain_records r WHERE r.chain_id = ? AND r.contract = ? AND r.study IN (${studyIds.map(() => '?').join(',')}) ORDER BY r.block_number, r.log_index`,
      )
      .all(chainId, contract, ...studyIds) as (Base & { root: string; study: string; version: number; leaf_count: number; institution: string; clinician: string; uri: string | null; superseded_by: string | null })[];
    return rows.map((r) => ({
      ...ref(r),
      root: r.root,
      study: r.study,
      version: r.version,
      leafCount: r.leaf_count,
      institution: party(r.institution),
      clinician: party(r.clinician),
      storageUri: r.uri,
      supersededBy: r.superseded_by,
    }));
  }

  consents(chainId: number, contract: string, patient: string, studyIds: string[], party: (a: string) => PartyRef, nowUnix: number): ConsentView[] {
    const ids = [...studyIds, ALL_STUDIES];
    const rows = this.ctx.db
      .prepare(
        `SELECT * FROM chain_consents WHERE chain_id = ? AND contract = ? AND patient = ? AND study IN (${ids.map(() => '?').join(',')}) ORDER BY block_number, log_index`,
      )
      .all(chainId, contract, getAddress(patient), ...ids) as (Base & { action: string; institution: string; study: string; expiry: number | null; by_signature: number })[];
    const out: ConsentView[] = [];
    const open = new Map<string, ConsentView>();
    for (const r of rows) {
      const key = `${r.institution}:${r.study}`;
      if (r.action === 'granted') {
        const v: ConsentView = {
          institution: party(r.institution),
          scope: r.study === ALL_STUDIES ? 'all' : 'study',
          study: r.study,
          state: r.expiry !== null && nowUnix >= r.expiry ? 'expired' : 'active',
          grantedAt: iso(r.block_time),
          expiresAt: iso(r.expiry),
          revokedAt: null,
          bySignature: r.by_signature === 1,
          granted: ref(r),
          revoked: null,
        };
        out.push(v);
        open.set(key, v);
      } else {
        const v = open.get(key);
        if (v) {
          v.state = 'revoked';
          v.revokedAt = iso(r.block_time);
          v.revoked = ref(r);
        }
      }
    }
    return out;
  }

  accesses(chainId: number, contract: string, studyIds: string[], party: (a: string) => PartyRef): AccessView[] {
    if (studyIds.length === 0) return [];
    const rows = this.ctx.db
      .prepare(`SELECT * FROM chain_accesses WHERE chain_id = ? AND contract = ? AND study IN (${studyIds.map(() => '?').join(',')}) ORDER BY block_number, log_index`)
      .all(chainId, contract, ...studyIds) as (Base & { outcome: 'granted' | 'denied'; access_id: number | null; root: string; recipient: string; accessor: string; basis: number | null; denial: number | null })[];
    const rep = this.ctx.db.prepare('SELECT action, upheld FROM chain_reports WHERE chain_id = ? AND contract = ? AND access_id = ? ORDER BY block_number, log_index');
    return rows.map((r) => {
      let followUp: AccessView['followUp'] = 'none';
      if (r.access_id !== null) {
        for (const x of rep.all(chainId, contract, r.access_id) as { action: string; upheld: number | null }[]) {
          followUp = x.action === 'confirmed' ? 'confirmed' : x.action === 'reported' ? 'reported' : x.upheld ? 'upheld' : 'rejected';
        }
      }
      return {
        ...ref(r),
        outcome: r.outcome,
        accessId: r.access_id,
        recipient: party(r.recipient),
        accessor: party(r.accessor),
        root: r.root,
        detail: r.outcome === 'granted' ? (BASIS_TEXT[r.basis ?? 0] ?? 'allowed') : denialText(r.denial ?? 0),
        basis: r.basis,
        denial: r.denial,
        followUp,
      };
    });
  }

  /** Integrity confirmations, mismatch reports and rulings on the study's accesses, as history lines. */
  reportEntries(chainId: number, contract: string, accesses: AccessView[], party: (a: string) => PartyRef): HistoryEntry[] {
    const ids = accesses.map((a) => a.accessId).filter((x): x is number => x !== null);
    if (ids.length === 0) return [];
    const rows = this.ctx.db
      .prepare(`SELECT * FROM chain_reports WHERE chain_id = ? AND contract = ? AND access_id IN (${ids.map(() => '?').join(',')}) ORDER BY block_number, log_index`)
      .all(chainId, contract, ...ids) as (Base & { action: string; access_id: number; recipient: string | null; anchoring_institution: string | null; upheld: number | null; regulator: string | null })[];
    const name = (a: string | null) => {
      if (!a) return 'unknown';
      const p = party(a);
      return p.label ? `${p.label} (${p.address})` : p.address;
    };
    return rows.map((r) => ({
      ...ref(r),
      kind: 'report' as const,
      title: r.action === 'confirmed' ? 'integrity confirmed' : r.action === 'reported' ? 'mismatch reported' : r.upheld ? 'report upheld' : 'report rejected',
      detail:
        r.action === 'confirmed'
          ? `${name(r.recipient)} confirmed that the images of access ${r.access_id} matched the record.`
          : r.action === 'reported'
            ? `${name(r.recipient)} reported that the images of access ${r.access_id} did not match the record of ${name(r.anchoring_institution)}.`
            : `The regulator ${name(r.regulator)} ${r.upheld ? 'upheld' : 'rejected'} the mismatch report on access ${r.access_id}.`,
      institution: r.recipient ?? r.anchoring_institution,
      account: r.regulator,
      delta: null,
    }));
  }

  // ---- the panel ----

  async panel(studyInstanceUid: string, opts: { verify?: boolean; filter?: HistoryFilter } = {}): Promise<TrustPanel> {
    const sc = await this.scope();
    if (sc.conn) await this.ledger.sync.sync();
    const fresh = sc.conn ? (await this.scope()).freshness : sc.freshness;
    const { policy, from } = await this.policy(sc.conn);
    const { chainId, contract } = sc;
    const party = this.partyFactory(chainId, contract);
    let verification: TrustPanel['verification'] = null;
    if (opts.verify !== false) {
      const v = await this.ledger.verifier.verifyStudy(studyInstanceUid, { reuseRecent: true });
      verification = { state: v.state, message: v.message, counts: v.counts, instances: v.instances, record: v.record };
    }
    const known = this.ctx.db.prepare('SELECT 1 FROM studies WHERE study_uid = ?').get(studyInstanceUid) || this.ledger.anchors.ofStudy(studyInstanceUid).length;
    if (!known && !verification) {
      throw new AppError(ErrorCode.NotFound, `Study ${studyInstanceUid} is not on this workstation.`, 'Import it first.');
    }
    const acting = this.actingInstitution(chainId, contract);
    if (chainId === null || contract === null) {
      return {
        studyInstanceUid,
        ledger: fresh,
        patient: null,
        thresholds: thresholdsOf(policy),
        thresholdsFrom: from,
        verification,
        records: [],
        consents: [],
        accesses: [],
        actingInstitution: null,
        actingMessage: acting.message ?? 'The ledger has never been synced on this workstation.',
        history: [],
      };
    }
    const { studyIds, patient } = this.studyIds(chainId, contract, studyInstanceUid);
    const now = Math.floor(Date.now() / 1000);
    const records = this.records(chainId, contract, studyIds, party);
    const consents = patient ? this.consents(chainId, contract, patient, studyIds, party, now) : [];
    const accesses = this.accesses(chainId, contract, studyIds, party);
    const patientHistory = patient ? this.scoreHistory(chainId, contract, patient, party) : [];
    const patientView = patient
      ? { account: patient, party: party(patient), score: patientHistory.at(-1)?.newScore ?? (records.length ? policy.startScore : null), history: patientHistory }
      : null;
    const actingInstitution = acting.address ? this.institutionStatus(chainId, contract, acting.address, party, policy) : null;
    const reports = this.reportEntries(chainId, contract, accesses, party);
    const history = filterHistory(
      [...buildHistory(records, consents, accesses, patientHistory), ...reports].sort((a, b) => a.block - b.block),
      opts.filter,
    );
    return {
      studyInstanceUid,
      ledger: fresh,
      patient: patientView,
      thresholds: thresholdsOf(policy),
      thresholdsFrom: from,
      verification,
      records,
      consents,
      accesses,
      actingInstitution,
      actingMessage: acting.message,
      history,
    };
  }

  async history(studyInstanceUid: string, filter?: HistoryFilter): Promise<{ entries: HistoryEntry[]; ledger: LedgerFreshness }> {
    const p = await this.panel(studyInstanceUid, { verify: false, filter });
    return { entries: p.history, ledger: p.ledger };
  }

  /** The chain's institution registry (institutionCount / institutionById) with scores and status. */
  async institutions(): Promise<{ institutions: RegistryInstitution[]; ledger: LedgerFreshness }> {
    const sc = await this.scope();
    const party = this.partyFactory(sc.chainId, sc.contract);
    const { policy } = await this.policy(sc.conn);
    const acting = this.actingInstitution(sc.chainId, sc.contract).address;
    const out: RegistryInstitution[] = [];
    if (sc.conn) {
      const c = sc.conn.contract;
      const n = Number(await c.institutionCount());
      const instRole = await c.INSTITUTION_ROLE();
      const ids = Array.from({ length: n }, (_, i) => i + 1);
      const addrs = await Promise.all(ids.map((i) => c.institutionById(i)));
      const info = await Promise.all(addrs.map((a) => Promise.all([c.scoreOf(a), c.isSuspended(a), c.hasRole(instRole, a)])));
      addrs.forEach((a, i) => {
        const [score, suspended, active] = info[i]!;
        const sc2 = Number(score);
        out.push({
          id: ids[i]!,
          party: { ...party(a), role: 'institution' },
          score: sc2,
          suspended,
          active,
          canReceive: active && !suspended && sc2 >= policy.receiveThreshold,
          publicKeyKnown: knownPublicKey(this.keys, a) !== null,
          self: acting !== null && getAddress(a) === getAddress(acting),
        });
      });
    } else if (sc.chainId !== null && sc.contract !== null) {
      // Unreachable: what the synced copy knows (flagged by ledger.reachable = false).
      const rows = this.ctx.db
        .prepare("SELECT account FROM chain_roles WHERE chain_id = ? AND contract = ? AND event = 'InstitutionRegistered' ORDER BY block_number, log_index")
        .all(sc.chainId, sc.contract) as { account: string }[];
      rows.forEach((r, i) => {
        const st = this.institutionStatus(sc.chainId!, sc.contract!, r.account, party, policy);
        out.push({
          id: i + 1,
          party: st.institution,
          score: st.score ?? policy.startScore,
          suspended: st.suspended,
          active: true,
          canReceive: st.canReceive,
          publicKeyKnown: knownPublicKey(this.keys, r.account) !== null,
          self: acting !== null && getAddress(r.account) === getAddress(acting),
        });
      });
    }
    return { institutions: out, ledger: sc.freshness };
  }
}

/**
 * The reason a ledger is unreachable, said once: "Ledger unreachable: The ledger cannot be reached (No answer
 * from X (fetch failed).)." becomes "No answer from X (fetch failed)".
 */
export function ledgerProblem(message: string): string {
  let m = message.trim();
  for (let i = 0; i < 4; i++) {
    const before = m;
    m = m.replace(/^ledger unreachable\s*[:.-]?\s*/i, '');
    const wrapped = /^the ledger cannot be reached\s*\((.*)\)\.?$/is.exec(m);
    if (wrapped) m = wrapped[1]!.trim();
    else m = m.replace(/^the ledger cannot be reached\.?\s*/i, '');
    if (m === before) break;
  }
  m = m.replace(/[.\s]+$/, '');
  return m || 'the chain did not answer';
}

/** The unified history, oldest first. */
export function buildHistory(records: RecordVersion[], consents: ConsentView[], accesses: AccessView[], patientScores: ScoreChange[]): HistoryEntry[] {
  const out: (HistoryEntry & { order: number })[] = [];
  const name = (p: PartyRef) => (p.label ? `${p.label} (${p.address})` : p.address);
  for (const r of records) {
    out.push({
      block: r.block, txHash: r.txHash, time: r.time, kind: 'record', order: 0,
      title: r.version === 1 ? 'study anchored' : `new version ${r.version} anchored`,
      detail: `${r.leafCount} image(s) recorded by ${name(r.clinician)} for ${name(r.institution)}${r.storageUri ? `, stored at ${r.storageUri}` : ''}.`,
      institution: r.institution.address, account: r.clinician.address, delta: null,
    });
  }
  for (const c of consents) {
    out.push({
      ...c.granted, kind: 'consent', order: 1,
      title: 'consent granted',
      detail: `The patient allowed ${name(c.institution)} to access ${c.scope === 'all' ? 'all their studies' : 'this study'} until ${dateInWords(c.expiresAt) ?? '?'}${c.bySignature ? ' (signed by the patient, submitted by an institution)' : ''}.`,
      institution: c.institution.address, account: null, delta: null,
    });
    if (c.revoked) {
      out.push({
        ...c.revoked, kind: 'consent', order: 1,
        title: 'consent revoked',
        detail: `The patient revoked the consent for ${name(c.institution)} (${c.scope === 'all' ? 'all studies' : 'this study'}).`,
        institution: c.institution.address, account: null, delta: null,
      });
    }
  }
  for (const a of accesses) {
    out.push({
      block: a.block, txHash: a.txHash, time: a.time, kind: 'access', order: 2,
      title: a.outcome === 'granted' ? 'access granted' : 'access denied',
      detail: `${name(a.recipient)}: ${a.detail}.${a.followUp === 'confirmed' ? ' The recipient confirmed the images matched the record.' : a.followUp === 'reported' ? ' The recipient reported a mismatch.' : a.followUp === 'upheld' ? ' The mismatch report was upheld.' : a.followUp === 'rejected' ? ' The mismatch report was rejected.' : ''}`,
      institution: a.recipient.address, account: a.accessor.address, delta: null,
    });
  }
  for (const sc of patientScores) {
    out.push({
      block: sc.block, txHash: sc.txHash, time: sc.time, kind: 'score', order: 3,
      title: `patient score ${sc.delta >= 0 ? '+' : ''}${sc.delta} → ${sc.newScore}`,
      detail: `${sc.reason[0]!.toUpperCase()}${sc.reason.slice(1)} (caused by ${name(sc.by)}).`,
      institution: null, account: sc.account, delta: sc.delta,
    });
  }
  out.sort((a, b) => a.block - b.block || a.order - b.order);
  return out.map(({ order: _o, ...e }) => e);
}

export function filterHistory(entries: HistoryEntry[], f?: HistoryFilter): HistoryEntry[] {
  if (!f) return entries;
  const text = f.text?.toLowerCase();
  return entries.filter(
    (e) =>
      (!f.kinds?.length || f.kinds.includes(e.kind)) &&
      (!f.from || (e.time !== null && e.time >= f.from)) &&
      (!f.to || (e.time !== null && e.time < f.to)) &&
      (!f.institution || e.institution?.toLowerCase() === f.institution.toLowerCase()) &&
      (!text || e.title.toLowerCase().includes(text) || e.detail.toLowerCase().includes(text)),
  );
}
