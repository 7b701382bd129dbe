import type { AdminAction, AdminResult, ledgerChannels } from '../../shared/api/ledger';
import { getAddress } from 'ethers';
import { AppError, ErrorCode } from '../../shared/errors';
import { identityService } from '../identity';
import { ledgerService, type LedgerService } from '../ledger';
import { readRoles } from '../ledger/roles';
import type { Services } from '../services';
import type { HandlerTable } from './dispatch';

type LedgerChannel = keyof typeof ledgerChannels;

/** The ledger domain (src/node/ledger): status, identity roles, anchoring, verification, sync, demo. */
export function ledgerHandlers(s: Services): Pick<HandlerTable, LedgerChannel> {
  const l = () => ledgerService(s);
  return {
    'ledger.status': () => s.ledger.current(),
    'ledger.info': () => l().info(),
    'ledger.me': () => l().me(),
    'ledger.roles': (r) => l().roles(r.address),
    'ledger.anchor': (r) =>
      s.tasks.run('anchor', null, (task) => l().anchors.anchorStudy(r.studyInstanceUid, { patient: r.patient, waitMs: r.waitMs, task })),
    'ledger.anchors': (r) => ({ anchors: l().anchorsOf(r.studyInstanceUid) }),
    'ledger.verifyStudy': (r) => l().verifier.verifyStudy(r.studyInstanceUid),
    'ledger.verifyInstances': (r) => l().verifier.verifyInstances(r),
    'ledger.sync': async () => (await l().sync.sync()).status,
    'ledger.syncStatus': () => l().syncStatus(),
    'ledger.demoStatus': () => l().demo.status(),
    'ledger.setupDemo': () => l().demo.ensure(),
    'ledger.admin': (r) => adminAction(l(), r.action, r.account),
    'ledger.patientRecords': async (r) => {
      const patient = r.patient ?? identityService(s).current()?.address;
      if (!patient) throw new AppError(ErrorCode.Locked, 'No identity is unlocked, so there is no patient to list records for.', 'Log in as the patient first.');
      const conn = await l().contract();
      const total = Number(await conn.contract.recordCount(patient));
      const records = [];
      for (let i = 0; i < Math.min(total, 500); i++) {
        const view = await conn.contract.recordAt(patient, i);
        records.push(await l().anchors.evidence(conn, view.root, view));
      }
      return { patient: getAddress(patient), total, records };
    },
  };
}

const HINTS: Record<AdminAction, string> = {
  registerInstitution: 'Only the regulator may register institutions; log in as the regulator.',
  suspendInstitution: 'Only the regulator may suspend institutions, and only registered ones.',
  reinstateInstitution: 'Only the regulator may reinstate institutions, and only suspended ones.',
  grantClinician: 'Only an active (not suspended) institution may grant the clinician role, to an account that is not a clinician elsewhere.',
  removeClinician: 'An institution may remove only its own clinicians.',
  registerPatientFor: 'Only an active institution may register a verified patient, once.',
  registerPatient: 'An account can register itself as a patient once.',
};

/** One role-administration transaction, signed by the unlocked identity, mined before it returns. */
async function adminAction(l: LedgerService, action: AdminAction, account: string | undefined): Promise<AdminResult> {
  const signer = l.signer(); // LOCKED when no identity is unlocked
  const conn = await l.contract(); // LEDGER_UNREACHABLE when down
  const me = await signer.getAddress();
  const target = action === 'registerPatient' ? me : account;
  if (!target) throw new AppError(ErrorCode.InvalidArgument, 'This action needs an account address.', 'Enter the 0x… address of the account.');
  const c = conn.contract.connect(signer.connect(conn.provider));
  try {
    const tx =
      action === 'registerInstitution'
        ? await c.registerInstitution(target)
        : action === 'suspendInstitution'
          ? await c.suspendInstitution(target)
          : action === 'reinstateInstitution'
            ? await c.reinstateInstitution(target)
            : action === 'grantClinician'
              ? await c.grantClinician(target)
              : action === 'removeClinician'
                ? await c.removeClinician(target)
                : action === 'registerPatientFor'
                  ? await c.registerPatientFor(target)
                  : await c.registerPatient();
    const receipt = await tx.wait();
    void l.sync.sync().catch(() => undefined);
    return { action, account: target, txHash: tx.hash, block: receipt?.blockNumber ?? null, roles: await readRoles(conn, target) };
  } catch (err) {
    const e = err as { revert?: { name?: string } | null; shortMessage?: string; code?: string };
    const name = e.revert?.name ?? (typeof e.shortMessage === 'string' ? e.shortMessage : null);
    if (e.code === 'CALL_EXCEPTION' || e.revert) {
      throw new AppError(ErrorCode.Denied, `The contract refused ${action}${name ? ` (${name})` : ''}.`, HINTS[action]);
    }
    throw new AppError(ErrorCode.LedgerUnreachable, `The transaction could not be sent: ${name ?? (err instanceof Error ? err.message : String(err))}.`, 'Check the ledger connection and try again.');
  }
}
