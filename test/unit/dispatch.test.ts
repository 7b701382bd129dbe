import { describe, expect, it } from 'vitest';
import { dispatch, type HandlerTable } from '../../src/node/handlers/dispatch';
import { AppError, ErrorCode } from '../../src/shared/errors';
import type { LedgerStatus } from '../../src/shared/api';

// A unit test may fake collaborators: here the handlers are fakes; dispatch is real.
const status: LedgerStatus = {
  state: 'connected', mode: 'embedded', rpcUrl: 'http://127.0.0.1:1', chainId: 31337, blockNumber: 3, checkedAt: null, message: null,
};
const table = {
  'app.info': () => {
    throw new Error('secret stack detail');
  },
  'ledger.status': () => status,
} as unknown as HandlerTable;
const trusted = { url: 'app://medimgshr/index.html', trusted: true };

describe('dispatch', () => {
  it('returns the handler value for a valid call', async () => {
    expect(await dispatch(table, 'ledger.status', {}, trusted)).toEqual({ ok: true, value: status });
  });

  it('rejects a call from anything but the app window', async () => {
    const r = await dispatch(table, 'ledger.status', {}, { url: 'https://evil.example/', trusted: false });
    expect(r).toEqual({ ok: false, error: { code: ErrorCode.ForbiddenSender, message: expect.stringContaining('MedImgShr window') } });
  });

  it('rejects unknown channels by name', async () => {
    const r = await dispatch(table, 'fs.readFile', {}, trusted);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.code).toBe(ErrorCode.UnknownChannel);
    expect(!r.ok && r.error.message).toContain('fs.readFile');
  });

  it('validates arguments and says which one is wrong', async () => {
    const r = await dispatch(table, 'ledger.status', { extra: 1 }, trusted);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.code).toBe(ErrorCode.InvalidArgument);
    expect(!r.ok && r.error.message).toMatch(/ledger\.status/);
  });

  it('never leaks a stack trace: unexpected errors become INTERNAL with a hint', async () => {
    const r = await dispatch(table, 'app.info', {}, trusted);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe(ErrorCode.Internal);
      expect(JSON.stringify(r.error)).not.toContain('secret stack detail');
      expect(r.error.hint).toMatch(/logs\/main\.log/);
    }
  });

  it('passes AppErrors through with their code and hint', async () => {
    const t = { ...table, 'app.info': () => { throw new AppError(ErrorCode.NotFound, 'No such study.', 'Re-import it.'); } } as unknown as HandlerTable;
    expect(await dispatch(t, 'app.info', {}, trusted)).toEqual({
      ok: false,
      error: { code: 'NOT_FOUND', message: 'No such study.', hint: 'Re-import it.' },
    });
  });
});
