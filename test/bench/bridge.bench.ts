import type { Bench } from './harness';
import { row } from './harness';
import { Services } from '../../src/node/services';
import { createHandlerTable, dispatch } from '../../src/node/handlers';
import { tempDir } from '../support/tmp';

/** The cost of the validated bridge (sender check + zod + envelope) against calling the handler directly. */
export const bridgeBench: Bench = {
  name: 'bridge',
  description: 'bridge dispatch overhead vs a direct handler call',
  async run() {
    const home = tempDir();
    const s = await Services.open({ home: home.path });
    try {
      const table = createHandlerTable(s);
      const sender = { url: 'app://medimgshr/index.html', trusted: true };
      const n = 20_000;
      for (let i = 0; i < 2000; i++) await dispatch(table, 'ledger.status', {}, sender);
      let t0 = performance.now();
      for (let i = 0; i < n; i++) await dispatch(table, 'ledger.status', {}, sender);
      const viaBridge = ((performance.now() - t0) * 1000) / n;
      t0 = performance.now();
      for (let i = 0; i < n; i++) await table['ledger.status']({}, { sender });
      const direct = ((performance.now() - t0) * 1000) / n;
      return [
        row({ metric: 'ledger.status call', ours: viaBridge, peer: direct, peerName: 'direct handler call', unit: 'µs/call', better: 'lower', goal: '< 50 µs/call', met: viaBridge < 50 }),
      ];
    } finally {
      await s.close();
      home.cleanup();
    }
  },
};
