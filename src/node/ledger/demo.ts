/**
 * DEMO setup on the embedded chain (docs/ledger.md "Demo"): a regulator, one institution, one
 * clinician and one patient — each a local identity with an encrypted keystore (low scrypt cost
 * and a published passphrase: DEMO ONLY, marked demo in the identity list) — their roles on the
 * chain, and a generated synthetic CT study (40 slices) imported into the library and linked to
 * the demo patient's account. Idempotent: every step checks what is already there, so it can run
 * on every start (a chain that lost blocks or started fresh gets its roles back).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decryptKeystoreJson, encryptKeystoreJson, getAddress, JsonRpcSigner, parseEther, Wallet, ZeroAddress, type JsonRpcProvider } from 'ethers';
import { writeSampleSeries } from '../dicom/sample';
import type { DemoStatus } from '../../shared/api/ledger';
import { AppError, ErrorCode } from '../../shared/errors';
import type { ChainConnection } from './client';
import type { LedgerService } from './index';

/** The published passphrase of the DEMO identities (never use it, or them, for real data). */
export const DEMO_PASSPHRASE = 'medimgshr-demo';
/** scrypt N of the demo keystores: cheap on purpose (demo and tests only). */
export const DEMO_SCRYPT_N = 1024;
export const DEMO_SLICES = 40;
export const DEMO_SEED = 20261122;

type DemoRole = 'regulator' | 'institution' | 'clinician' | 'patient';
const ROLES: DemoRole[] = ['regulator', 'institution', 'clinician', 'patient'];
const NAMES: Record<DemoRole, string> = {
  regulator: 'DEMO Regulator',
  institution: 'DEMO Clinic (institution)',
  clinician: 'DEMO Dr. Clinician',
  patient: 'DEMO Patient',
};
const DEFAULT_ADMIN_ROLE = '0x' + '00'.repeat(32);

export class DemoSetup {
  private running: Promise<DemoStatus> | null = null;

  constructor(private readonly l: LedgerService) {}

  get folder(): string {
    return join(this.l.ctx.home.root, 'samples', 'demo-ct');
  }

  private available(): boolean {
    return this.l.connection.embeddedNode !== null;
  }

  /** The demo identity addresses recorded so far. */
  addresses(): Partial<Record<DemoRole, string>> {
    const out: Partial<Record<DemoRole, string>> = {};
    for (const r of ROLES) {
      const a = this.l.settings.get(`demo:${r}`);
      if (a) out[r] = a;
    }
    return out;
  }

  async status(): Promise<DemoStatus> {
    const ids = this.l.identity;
    const known = new Set(ids.list().map((i) => i.address));
    const addrs = this.addresses();
    const conn = await this.l.chain.connection().catch(() => null);
    const onChain = conn ? await this.onChain(conn, addrs).catch(() => null) : null;
    const identities = ROLES.filter((r) => addrs[r] && known.has(addrs[r]!)).map((r) => ({
      role: r,
      address: addrs[r]!,
      displayName: NAMES[r],
      onChain: onChain?.[r] ?? false,
    }));
    const studyUid = this.l.settings.get('demo:study');
    let study: DemoStatus['study'] = null;
    if (studyUid) {
      const row = this.l.ctx.db.prepare('SELECT id FROM studies WHERE study_uid = ?').get(studyUid) as { id: number } | undefined;
      const files = existsSync(this.folder) ? readdirSync(this.folder).filter((f) => f.endsWith('.dcm')).length : 0;
      study = { studyInstanceUid: studyUid, studyId: row?.id ?? null, files, folder: this.folder };
    }
    const ready = identities.length === 4 && identities.every((i) => i.onChain) && study !== null && study.studyId !== null && study.files >= DEMO_SLICES;
    const available = this.available();
    return {
      available,
      ready,
      passphrase: identities.length ? DEMO_PASSPHRASE : null,
      identities,
      study,
      message: !available
        ? 'The demo needs the embedded ledger (it is not used now).'
        : ready
          ? `DEMO ready: log in as "${NAMES.clinician}" with the passphrase "${DEMO_PASSPHRASE}" to anchor studies.`
          : conn
            ? 'The demo is not set up (or not completely).'
            : 'The demo cannot be checked while the ledger is unreachable.',
    };
  }

  /**
   * Creates whatever is missing (idempotent; one run at a time). `anchor`: also anchor the demo
   * study as the DEMO clinician (the app does, so its first screen is a verified study; tests that
   * exercise anchoring themselves do not).
   */
  ensure(opts: { anchor?: boolean } = {}): Promise<DemoStatus> {
    this.running ??= this.run(opts.anchor ?? false).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async run(anchor: boolean): Promise<DemoStatus> {
    if (!this.available()) {
      throw new AppError(ErrorCode.Unavailable, 'The demo can only be set up on the embedded ledger.', 'Start the app with the embedded ledger (the default) to get the demo.');
    }
    const conn = await this.l.chain.require();
    const log = this.l.ctx.log;
    // 1. Identities (local keystores, cheap scrypt, demo flag).
    const ids = this.l.identity;
    const known = new Set(ids.list().map((i) => i.address));
    const wallets = {} as Record<DemoRole, Wallet>;
    for (const role of ROLES) {
      const addr = this.l.settings.get(`demo:${role}`);
      if (addr && known.has(addr)) {
        const json = ids.exportKeystore(addr).keystoreJson;
        wallets[role] = new Wallet((await decryptKeystoreJson(json, DEMO_PASSPHRASE)).privateKey);
        continue;
      }
      const w = Wallet.createRandom();
      const json = await encryptKeystoreJson({ address: w.address, privateKey: w.privateKey }, DEMO_PASSPHRASE, { scrypt: { N: DEMO_SCRYPT_N } });
      await ids.import({ displayName: NAMES[role], passphrase: DEMO_PASSPHRASE, keystoreJson: json, roleHint: role, demo: true });
      this.l.settings.set(`demo:${role}`, w.address);
      wallets[role] = new Wallet(w.privateKey);
      log.info('demo: identity created', { role, address: w.address });
    }
    // The login screen can list them (and show the published passphrase) from now on.
    this.l.ctx.emit({ type: 'demo', status: await this.status() });
    // 2. Roles on chain.
    await this.ensureRoles(conn, wallets);
    // 3. The synthetic study, imported and linked to the demo patient's account.
    await this.ensureStudy(wallets.patient.address);
    // 4. Anchored by the DEMO clinician, so a newcomer's first screen is a verified study.
    if (anchor) await this.ensureAnchored(wallets.clinician.address);
    const done = await this.status();
    this.l.ctx.emit({ type: 'demo', status: done });
    return done;
  }

  /**
   * Anchors the demo study once, signed by the DEMO clinician, whose key is lent to this one
   * transaction without logging anyone in. Skipped when someone has already logged in (their session is not touched) or the
   * study has an anchor; a failure leaves the study for the user to anchor by hand.
   */
  private async ensureAnchored(clinician: string): Promise<void> {
    const uid = this.l.settings.get('demo:study');
    if (!uid || this.l.anchors.ofStudy(uid).length > 0) return;
    const ids = this.l.identity;
    if (ids.current() !== null) return;
    // The clinician's key is lent to this one anchoring, not logged in: the login screen stays, and a
    // user who logs in meanwhile (even as this clinician) keeps their session.
    await ids.withBackgroundKey(clinician, DEMO_PASSPHRASE, async () => {
      try {
        const r = await this.l.anchors.anchorStudy(uid, { waitMs: 20_000 });
        this.l.ctx.log.info('demo: study anchored', { root: r.anchor.root, delivery: r.anchor.delivery });
      } catch (err) {
        this.l.ctx.log.warn('demo: anchoring the study failed; it can be anchored by hand', { error: err instanceof Error ? err.message : String(err) });
      }
    });
  }

  private async onChain(conn: ChainConnection, a: Partial<Record<DemoRole, string>>): Promise<Record<DemoRole, boolean>> {
    const c = conn.contract;
    const [inst, clin, pat] = await Promise.all([c.INSTITUTION_ROLE(), c.CLINICIAN_ROLE(), c.PATIENT_ROLE()]);
    return {
      regulator: a.regulator ? await c.hasRole(DEFAULT_ADMIN_ROLE, a.regulator) : false,
      institution: a.institution ? await c.hasRole(inst, a.institution) : false,
      clinician: a.clinician && a.institution ? (await c.hasRole(clin, a.clinician)) && getAddress(await c.institutionOf(a.clinician)) === getAddress(a.institution) : false,
      patient: a.patient ? await c.hasRole(pat, a.patient) : false,
    };
  }

  private async ensureRoles(conn: ChainConnection, w: Record<DemoRole, Wallet>): Promise<void> {
    const p = conn.provider;
    const c = conn.contract;
    const log = this.l.ctx.log;
    // Gas money on the local chain (anvil's cheat code; the embedded chain only).
    for (const role of ROLES) {
      if ((await p.getBalance(w[role].address)) < parseEther('1')) {
        await p.send('anvil_setBalance', [w[role].address, '0x' + parseEther('100').toString(16)]);
      }
    }
    const as = (role: DemoRole) => c.connect(w[role].connect(p));
    const mined = async (tx: Promise<{ wait(): Promise<unknown> }>) => (await tx).wait();
    const state = await this.onChain(conn, Object.fromEntries(ROLES.map((r) => [r, w[r].address])));
    if (!state.regulator) {
      // Two-step handover from the deployer (regulator by default) to the demo regulator.
      const admin = await c.defaultAdmin();
      if (admin !== ZeroAddress && getAddress(admin) !== w.regulator.address) {
        await p.send('anvil_impersonateAccount', [admin]);
        try {
          const adminSigner = new JsonRpcSigner(p as JsonRpcProvider, admin);
          await mined(c.connect(adminSigner).beginDefaultAdminTransfer(w.regulator.address));
        } finally {
          await p.send('anvil_stopImpersonatingAccount', [admin]);
        }
        await p.send('evm_increaseTime', [2]);
        await p.send('evm_mine', []);
        await mined(as('regulator').acceptDefaultAdminTransfer());
        log.info('demo: regulator role handed over', { from: admin, to: w.regulator.address });
      }
    }
    if (!state.institution) await mined(as('regulator').registerInstitution(w.institution.address));
    if (!state.clinician) await mined(as('institution').grantClinician(w.clinician.address));
    if (!state.patient) await mined(as('patient').registerPatient());
    this.l.settings.set(`institution-of:${w.clinician.address}`, w.institution.address);
  }

  private async ensureStudy(patientAccount: string): Promise<void> {
    const s = this.l.ctx;
    const folder = this.folder;
    const have = existsSync(folder) ? readdirSync(folder).filter((f) => f.endsWith('.dcm')).length : 0;
    let studyUid = this.l.settings.get('demo:study');
    if (have < DEMO_SLICES || !studyUid) {
      const r = await writeSampleSeries({ outDir: folder, slices: DEMO_SLICES, kind: 'ct', seed: DEMO_SEED });
      studyUid = r.studyInstanceUid;
      this.l.settings.set('demo:study', studyUid);
    }
    const indexed = s.db
      .prepare(
        `SELECT COUNT(*) AS n FROM instances i JOIN series se ON i.series_ref = se.id JOIN studies st ON se.study_ref = st.id WHERE st.study_uid = ? AND i.copy_of IS NULL`,
      )
      .get(studyUid) as { n: number };
    if (indexed.n < DEMO_SLICES) {
      const library = this.l.library();
      const report = await s.tasks.run('import', null, (task) => library.import([folder], task));
      if (report.added + report.updated > 0) s.emit({ type: 'library-changed', reason: 'import', studyIds: report.studyIds });
    }
    const pk = s.db
      .prepare('SELECT p.patient_key AS pk FROM studies st JOIN patients p ON st.patient_ref = p.id WHERE st.study_uid = ?')
      .get(studyUid) as { pk: string } | undefined;
    if (pk) this.l.anchors.linkPatient(pk.pk, patientAccount, 'identity');
  }
}
