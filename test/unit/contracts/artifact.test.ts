/**
 * Checks on the compiled MedImgShr artifact (contracts/build, produced by `node scripts/build.mjs`):
 * NatSpec on every function of ours, deployable size, and the generated bindings in step with it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MedImgShrAbi } from '../../../src/node/ledger/generated/MedImgShr';

const artifactPath = join(__dirname, '../../../contracts/build/MedImgShr.json');

interface Artifact {
  abi: { type: string; name?: string; inputs?: { type: string }[] }[];
  deployedSize: number;
  userdoc: { methods: Record<string, unknown> };
  devdoc: { methods: Record<string, unknown> };
}

describe('MedImgShr artifact', () => {
  it('exists (run node scripts/build.mjs --node)', () => {
    expect(existsSync(artifactPath)).toBe(true);
  });

  const art = JSON.parse(readFileSync(artifactPath, 'utf8')) as Artifact;
  // OpenZeppelin's inherited functions carry OpenZeppelin's NatSpec; ours must carry our own.
  const inherited = new Set(['DEFAULT_ADMIN_ROLE', 'acceptDefaultAdminTransfer', 'beginDefaultAdminTransfer', 'cancelDefaultAdminTransfer', 'changeDefaultAdminDelay', 'defaultAdmin', 'defaultAdminDelay', 'defaultAdminDelayIncreaseWait', 'eip712Domain', 'getRoleAdmin', 'grantRole', 'hasRole', 'nonces', 'owner', 'pendingDefaultAdmin', 'pendingDefaultAdminDelay', 'renounceRole', 'revokeRole', 'rollbackDefaultAdminDelay', 'supportsInterface']);

  it('has NatSpec on every external function of ours', () => {
    const fns = art.abi.filter((e) => e.type === 'function' && !inherited.has(e.name!));
    expect(fns.length).toBeGreaterThan(40);
    const missing = fns
      .map((f) => `${f.name}(${(f.inputs ?? []).map((i) => i.type).join(',')})`)
      .filter((sig) => !(sig in art.userdoc.methods) && !(sig in art.devdoc.methods));
    expect(missing).toEqual([]);
  });

  it('fits the EIP-170 code size limit of real chains', () => {
    expect(art.deployedSize).toBeGreaterThan(1000);
    expect(art.deployedSize).toBeLessThanOrEqual(24_576);
  });

  it('the generated bindings carry the same ABI as the artifact', () => {
    expect(JSON.parse(JSON.stringify(MedImgShrAbi))).toEqual(art.abi);
  });
});
