/** The trust panel says "Ledger unreachable" once: the reason without the wrappers that already say so. */
import { describe, expect, it } from 'vitest';
import { ledgerProblem } from '../../../src/node/trust';

describe('"Ledger unreachable" said once', () => {
  it('strips the wrappers that already mean unreachable', () => {
    expect(ledgerProblem('The ledger cannot be reached (No answer from http://127.0.0.1:9 (fetch failed).).')).toBe('No answer from http://127.0.0.1:9 (fetch failed)');
    expect(ledgerProblem('Ledger unreachable: the ledger did not answer within 5 s')).toBe('the ledger did not answer within 5 s');
    expect(ledgerProblem('Ledger unreachable: The ledger cannot be reached.')).toBe('the chain did not answer');
    expect(ledgerProblem('no ledger is configured.')).toBe('no ledger is configured');
  });
});
