import { describe, expect, it } from 'vitest';
import { buildProgram, summaryOf } from '../../../src/cli/main';

describe('CLI help: one short line per command in the lists, the full text under <command> --help', () => {
  it('summaryOf takes the first clause outside parentheses and quotes', () => {
    expect(summaryOf('check images against the ledger. Each image is one of: verified')).toBe('check images against the ledger');
    expect(summaryOf('check this installation: versions, the app-data folder')).toBe('check this installation');
    expect(summaryOf('split DICOM instances (Takahashi): each file becomes')).toBe('split DICOM instances (Takahashi)');
    expect(summaryOf('compare two files (e.g. a PACS round trip: same pixels). More')).toBe('compare two files (e.g. a PACS round trip: same pixels)');
    expect(summaryOf('say "a: b" first; then more')).toBe('say "a: b" first');
    expect(summaryOf('list the studies in the library index')).toBe('list the studies in the library index');
    expect(summaryOf('import files, e.g. DICOMDIRs. Files stay')).toBe('import files, e.g. DICOMDIRs');
    const long = 'start the embedded local ledger and keep it running until Ctrl-C (stops it gracefully, saving its state)';
    expect(summaryOf(long)).toBe('start the embedded local ledger and keep it running until Ctrl-C');
    expect(summaryOf('short (kept as is)')).toBe('short (kept as is)');
    const sync = 'send what the outbox still holds (e.g. anchors queued while the ledger was down) and sync chain events into the local database: more';
    expect(summaryOf(sync)).toBe('send what the outbox still holds and sync chain events into the local database');
  });

  it('every command in every list has a one-line summary of at most 100 characters, distinct from its neighbours', () => {
    const program = buildProgram();
    const walk = (c: ReturnType<typeof buildProgram>, path: string): void => {
      const summaries = c.commands.map((sub) => sub.summary());
      for (const [i, sub] of c.commands.entries()) {
        const s = summaries[i]!;
        expect(s, `${path} ${sub.name()}`).not.toBe('');
        expect(s.includes('\n'), `${path} ${sub.name()}`).toBe(false);
        expect(s.length, `${path} ${sub.name()}: ${s}`).toBeLessThanOrEqual(100);
        walk(sub, `${path} ${sub.name()}`);
      }
      expect(new Set(summaries).size, `${path}: two commands with the same summary`).toBe(summaries.length);
    };
    walk(program, 'medimgshr');
    // The full description is still there for `<command> --help`.
    const verify = program.commands.find((c) => c.name() === 'verify')!;
    expect(verify.description()).toContain('ledger-unreachable');
    expect(verify.summary()).toBe('check images against the ledger');
  });
});
