import { getAddress, ZeroAddress } from 'ethers';
import type { ChainRoles } from '../../shared/api/ledger';
import type { ChainConnection } from './client';

const DEFAULT_ADMIN_ROLE = '0x' + '00'.repeat(32);

/** Role constants of the contract, read once per connection. */
const roleIds = new WeakMap<ChainConnection, Promise<{ institution: string; clinician: string; patient: string }>>();

function ids(conn: ChainConnection) {
  let p = roleIds.get(conn);
  if (!p) {
    p = Promise.all([conn.contract.INSTITUTION_ROLE(), conn.contract.CLINICIAN_ROLE(), conn.contract.PATIENT_ROLE()]).then(([institution, clinician, patient]) => ({
      institution,
      clinician,
      patient,
    }));
    roleIds.set(conn, p);
  }
  return p;
}

/** What the chain says an account may do (all reads in parallel). */
export async function readRoles(conn: ChainConnection, address: string): Promise<ChainRoles> {
  const a = getAddress(address);
  const r = await ids(conn);
  const c = conn.contract;
  const [regulator, institution, clinician, patient, clinicianOf, score, suspended] = await Promise.all([
    c.hasRole(DEFAULT_ADMIN_ROLE, a),
    c.hasRole(r.institution, a),
    c.hasRole(r.clinician, a),
    c.hasRole(r.patient, a),
    c.institutionOf(a),
    c.scoreOf(a),
    c.isSuspended(a),
  ]);
  return {
    address: a,
    regulator,
    institution,
    clinician,
    patient,
    clinicianOf: clinician && clinicianOf !== ZeroAddress ? getAddress(clinicianOf) : null,
    score: institution || patient ? Number(score) : null,
    suspended,
  };
}
