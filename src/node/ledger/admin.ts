/**
 * Role administration on the contract (regulator: institutions; institution: clinicians and
 * patients; anyone: self-registration as a patient) and the patient's own record list.
 */
import { getAddress } from 'ethers';
import type { AdminAction, AdminResult, RecordEvidence } from '../../shared/api/ledger';
import { AppError, ErrorCode } from '../../shared/errors';
import type { MedImgShr } from './contracts';
import type { LedgerService } from './index';
import { readRoles } from './roles';

const HINTS: Record<AdminAction, string> = {
  registerInstitution: 'Only the regulator may register institutions; log in as the regulator.',
  suspendInstitution: 'Only the regulator may suspend institutions, and only registered ones.',
  reinstateInstitution: 'Only the regulator may reinstate institutions, and only suspended ones.',
  grantClinician: 'Only an active (not suspended) institution may grant the clinician role, to an account that is not a clinician elsewhere.',
  removeClinician: 'An institution may remove only its own clinicians.',
  registerPatientFor: 'Only an active institution may register a verified patient, once.',
  registerPatient: 'An account can register itself as a patient once.',
};

/** The contract call of each action; `target` is ignored by self-registration. */
const CALLS: Record<AdminAction, (c: MedImgShr, target: string) => ReturnType<MedImgShr['registerPatient']>> = {
  registerInstitution: (c, t) => c.registerInstitution(t),
  suspendInstitution: (c, t) => c.suspendInstitution(t),
  reinstateInstitution: (c, t) => c.reinstateInstitution(t),
  grantClinician: (c, t) => c.grantClinician(t),
  removeClinician: (c, t) => c.removeClinician(t),
  registerPatientFor: (c, t) => c.registerPatientFor(t),
  registerPatient: (c) => c.registerPatient(),
};

/** One role-administration transaction, signed by the unlocked identity, mined before it returns. */
export async function adminAction(l: LedgerService, action: AdminAction, account: string | undefined): Promise<AdminResult> {
  const signer = l.signer(); // LOCKED when no identity is unlocked
  const conn = await l.contract(); // LEDGER_UNREACHABLE when down
  const me = await signer.getAddress();
  const target = action === 'registerPatient' ? me : account;
  if (!target) throw new AppError(ErrorCode.InvalidArgument, 'This action needs an account address.', 'Enter the 0x… address of the account.');
  const c = conn.contract.connect(signer.connect(conn.provider));
  try {
    const tx = await CALLS[action](c, target);
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

/** The records on chain for a patient account (the unlocked identity when none is named); at most 500. */
export async function patientRecords(l: LedgerService, patient: string | undefined): Promise<{ patient: string; total: number; records: RecordEvidence[] }> {
  const who = patient ?? l.identity.current()?.address;
  if (!who) throw new AppError(ErrorCode.Locked, 'No identity is unlocked, so there is no patient to list records for.', 'Log in as the patient first.');
  const conn = await l.contract();
  const total = Number(await conn.contract.recordCount(who));
  const records: RecordEvidence[] = [];
  for (let i = 0; i < Math.min(total, 500); i++) {
    const view = await conn.contract.recordAt(who, i);
    records.push(await l.anchors.evidence(conn, view.root, view));
  }
  return { patient: getAddress(who), total, records };
}
