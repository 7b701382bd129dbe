/**
 * Issue 16, honest badges (node side, real anvil killed with SIGKILL): a failed chain read anywhere
 * marks the connection unreachable at once — one 'ledger-status' event — without waiting for the
 * monitor's poll (60 s here, so the poll cannot be what flips it):
 *   - remote ledger: the node dies; the monitor has not noticed; the next read through the
 *     connection's provider fails and the status is unreachable right after, with failedAt;
 *   - embedded ledger: anvil is killed; its exit is reported as unreachable at once, a study check
 *     says ledger-unreachable for every image, and the node restarts and verifies again.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { AppEvent, LedgerStatus } from '../../../src/shared/api';
import { startAnvil, type AnvilNode } from '../../../src/node/ledger/anvil';
import { Services } from '../../../src/node/services';
import { component } from '../../support/components';
import { tempDir } from '../../support/tmp';

const anvil = component('anvil');
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

function statusEvents(s: Services): LedgerStatus[] {
  const seen: LedgerStatus[] = [];
  s.events.on('event', (e: AppEvent) => {
    if (e.type === 'ledger-status') seen.push(e.status);
  });
  return seen;
}

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(!anvil)('a failed chain read flips the connection at once', () => {
  it('remote: a read that fails after the node died makes the status unreachable before any poll', async () => {
    const node: AnvilNode = await startAnvil({ accounts: 1 });
    cleanups.push(() => node.stop());
    const tmp = tempDir('medimg-ledger-fail-');
    const s = await Services.open({ home: tmp.path, ledger: { mode: 'remote', rpcUrl: node.rpcUrl }, ledgerPollMs: 60_000, storageScp: false });
    cleanups.push(async () => {
      await s.close();
      tmp.cleanup();
    });
    await until('connected', () => s.connection.monitor.current().state === 'connected');
    const provider = s.connection.provider.current()!;
    expect(await provider.getBlockNumber()).toBeGreaterThanOrEqual(0);
    const events = statusEvents(s);

    node.kill();
    await new Promise<void>((r) => node.process.once('exit', () => r()));
    // The poll is a minute away: nothing has noticed yet.
    expect(s.connection.monitor.current().state).toBe('connected');
    const before = Date.now();
    await expect(provider.getBlockNumber()).rejects.toThrow();
    const st = s.connection.monitor.current();
    expect(st.state).toBe('unreachable');
    expect(st.message).toContain(node.rpcUrl);
    expect(st.message).toMatch(/nothing is listening|connection/);
    expect(Date.parse(st.failedAt!)).toBeGreaterThanOrEqual(before - 5);
    expect(events.map((e) => e.state)).toEqual(['unreachable']);
    // A second failed read says nothing new (one event per change), but moves failedAt on.
    await expect(provider.getBlockNumber()).rejects.toThrow();
    expect(events).toHaveLength(1);
  });

  it('embedded: anvil killed → unreachable at once, the study check says ledger-unreachable, back after restart', async () => {
    const tmp = tempDir('medimg-ledger-kill-');
    const s = await Services.open({ home: tmp.path, ledger: { mode: 'embedded' }, ledgerPollMs: 60_000, storageScp: false });
    cleanups.push(async () => {
      await s.close();
      tmp.cleanup();
    });
    const demo = await s.ledgerService.demo.ensure();
    expect(demo.ready, demo.message).toBe(true);
    const uid = demo.study!.studyInstanceUid;
    const connected = await s.ledgerService.verifier.verifyStudy(uid);
    expect(connected.state).toBe('not-registered');
    const events = statusEvents(s);

    const pid = s.connection.embeddedNode!.pid!;
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    await until('the unreachable event', () => events.length > 0, 5000);
    expect(Date.now() - killedAt).toBeLessThan(60_000); // i.e. not the poll
    expect(events[0]!.state).toBe('unreachable');
    expect(events[0]!.message).toMatch(/local ledger process stopped \(SIGKILL\)/);
    expect(s.connection.embeddedNode).toBeNull();

    const down = await s.ledgerService.verifier.verifyStudy(uid);
    expect(down.state).toBe('ledger-unreachable');
    expect(down.counts['ledger-unreachable']).toBe(down.instances.length);
    expect(down.instances.length).toBe(40);

    await s.restartEmbeddedLedger();
    expect(s.connection.monitor.current().state).toBe('connected');
    const back = await s.ledgerService.verifier.verifyStudy(uid);
    expect(back.state).toBe('not-registered');
    expect(back.counts['not-registered']).toBe(40);
  });
});
