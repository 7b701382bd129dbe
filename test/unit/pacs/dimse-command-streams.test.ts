import { describe, expect, it } from 'vitest';
import dimse from 'dcmjs-dimse';
import { freshCommandStreams } from '../../../src/node/pacs/dimse';

describe('dcmjs-dimse command streams: a fresh one after each handled message', () => {
  it("the library's own method is still called, and the next command does not go into the last one's stream", () => {
    const calls: unknown[][] = [];
    const network = {
      dimseStream: { written: ['C-MOVE-RSP pending 1'] } as unknown,
      _performDimse(...a: unknown[]) {
        calls.push(a);
        return 'handled';
      },
    };
    freshCommandStreams(network);
    expect(network._performDimse('pc', 'rsp')).toBe('handled');
    expect(calls).toEqual([['pc', 'rsp']]);
    expect(network.dimseStream).toBeUndefined();
  });

  it('dcmjs-dimse still has the method the fix wraps (an upgrade that renames it shows here)', () => {
    // Scp extends the library's Network, whose _performDimse handles each complete message
    expect(typeof (dimse.Scp.prototype as unknown as { _performDimse?: unknown })._performDimse).toBe('function');
  });
});
