/** The hash-chained audit log on a real SQLite file: append, list, export, and tamper detection. */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog, GENESIS_HASH, canonicalEntry, canonicalJson } from '../../src/node/audit';
import { openDatabase, type Db } from '../../src/node/store/database';
import { tempDir } from '../support/tmp';
import { createHash } from 'node:crypto';

const dirs: { cleanup(): void }[] = [];
const dbs: Db[] = [];
afterEach(() => {
  dbs.splice(0).forEach((d) => d.open && d.close());
  dirs.splice(0).forEach((d) => d.cleanup());
});

function fresh(entries = 5): { log: AuditLog; db: Db; path: string } {
  const d = tempDir('medimg-audit-');
  dirs.push(d);
  const path = join(d.path, 'app.sqlite');
  const db = openDatabase(path);
  dbs.push(db);
  const log = new AuditLog(db);
  const t0 = Date.parse('2026-11-22T09:00:00Z');
  const actions = ['export.anonymised', 'export.original', 'override', 'share', 'receive', 'export.png'];
  for (let i = 0; i < entries; i++) {
    const action = actions[i % actions.length]!;
    log.append({
      actor: i % 2 ? '0x1111111111111111111111111111111111111111' : 'identity:alice',
      action,
      subject: { study: `study-${i % 2}`, instances: [`sop-${i}`] },
      details: { files: i, format: 'dicom' },
      reason: action === 'override' ? 'image altered by known re-encoding, checked visually' : null,
      at: new Date(t0 + i * 1000),
    });
  }
  return { log, db, path };
}

/** A tamperer with raw SQL: drops the append-only triggers first, as anyone with the file could. */
function raw(path: string, db: Db, sql: string, ...args: unknown[]): void {
  db.close();
  const r = new Database(path);
  r.exec('DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;');
  r.prepare(sql).run(...args);
  r.close();
}

function reopen(path: string): AuditLog {
  const db = openDatabase(path);
  dbs.push(db);
  return new AuditLog(db);
}

describe('canonical JSON', () => {
  it('sorts keys at every depth, drops undefined members, keeps array order, refuses non-JSON values', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' }, u: undefined })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson(['é', null, true, 1.5])).toBe('["é",null,true,1.5]');
    expect(() => canonicalJson({ n: Number.NaN })).toThrow();
    expect(() => canonicalJson({ f: () => 1 })).toThrow();
  });
});

describe('audit log', () => {
  it('chains each entry to the SHA-256 of the previous entry’s canonical encoding', () => {
    const { log } = fresh(4);
    const entries = log.list();
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(entries[0]!.prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < entries.length; i++) {
      const p = entries[i - 1]!;
      const enc = canonicalEntry({ seq: p.seq, at: p.at, actor: p.actor, action: p.action, subject: JSON.stringify(p.subject), details: JSON.stringify(p.details), reason: p.reason, prevHash: p.prevHash });
      // subject/details keys here happen to be in canonical order already
      expect(entries[i]!.prevHash).toBe(createHash('sha256').update(enc).digest('hex'));
      expect(entries[i]!.prevHash).toBe(p.hash);
    }
    expect(log.verifyChain()).toEqual({ ok: true, checked: 4, lastSeq: 4, problems: [] });
    expect(log.head()).toEqual({ seq: 4, hash: entries[3]!.hash });
  });

  it('filters by action, actor, study and time', () => {
    const { log } = fresh(6);
    expect(log.list({ action: 'override' }).map((e) => e.seq)).toEqual([3]);
    expect(log.list({ actor: 'identity:alice' }).map((e) => e.seq)).toEqual([1, 3, 5]);
    expect(log.list({ study: 'study-1' }).map((e) => e.seq)).toEqual([2, 4, 6]);
    expect(log.list({ from: '2026-11-22T09:00:02.000Z', to: '2026-11-22T09:00:04.000Z' }).map((e) => e.seq)).toEqual([3, 4]);
    expect(log.list({ order: 'desc', limit: 2 }).map((e) => e.seq)).toEqual([6, 5]);
    expect(log.list({ action: 'override' })[0]!.reason).toMatch(/re-encoding/);
  });

  it('refuses an override without a reason and a malformed action', () => {
    const { log } = fresh(0);
    expect(() => log.append({ actor: 'a', action: 'override', subject: {}, reason: '  ' })).toThrow(/reason/);
    expect(() => log.append({ actor: 'a', action: 'Export Stuff', subject: {} })).toThrow(/not a valid audit action/);
    expect(() => log.append({ actor: '', action: 'share', subject: {} })).toThrow(/actor/);
    expect(log.list()).toEqual([]);
  });

  it('is append-only for ordinary SQL (triggers)', () => {
    const { db } = fresh(2);
    expect(() => db.prepare("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_log WHERE seq = 1').run()).toThrow(/append-only/);
  });

  it('detects an edited row at that row', () => {
    const { db, path } = fresh(5);
    raw(path, db, 'UPDATE audit_log SET details = ? WHERE seq = 3', '{"files":99,"format":"dicom"}');
    const r = reopen(path).verifyChain();
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([expect.objectContaining({ seq: 3, kind: 'edited' })]);
    expect(r.problems[0]!.message).toMatch(/Entry 3 was changed/);
  });

  it('detects an edited row whose stored hash was recomputed too, at that row', () => {
    const { db, path } = fresh(5);
    const log0 = new AuditLog(db);
    const e = log0.list()[1]!; // seq 2
    const details = '{"files":1,"format":"png"}';
    const hash = createHash('sha256')
      .update(canonicalEntry({ seq: 2, at: e.at, actor: e.actor, action: e.action, subject: '{"instances":["sop-1"],"study":"study-1"}', details, reason: e.reason, prevHash: e.prevHash }))
      .digest('hex');
    raw(path, db, 'UPDATE audit_log SET details = ?, hash = ? WHERE seq = 2', details, hash);
    const r = reopen(path).verifyChain();
    expect(r.problems).toEqual([expect.objectContaining({ seq: 2, kind: 'edited' })]);
    expect(r.problems[0]!.message).toMatch(/entry 3 recorded a different hash/);
  });

  it('detects a deleted row, and deleted newest rows', () => {
    const a = fresh(5);
    raw(a.path, a.db, 'DELETE FROM audit_log WHERE seq = 2');
    expect(reopen(a.path).verifyChain().problems).toEqual([expect.objectContaining({ seq: 2, kind: 'missing' })]);

    const b = fresh(5);
    raw(b.path, b.db, 'DELETE FROM audit_log WHERE seq >= 4');
    const r = reopen(b.path).verifyChain();
    expect(r.problems).toEqual([expect.objectContaining({ seq: 4, kind: 'truncated' })]);
    expect(r.problems[0]!.message).toMatch(/recorded 5 entries but only 3 remain/);
  });

  it('detects reordered rows and says where each came from', () => {
    const { db, path } = fresh(5);
    db.close();
    const r0 = new Database(path);
    r0.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;');
    r0.transaction(() => {
      r0.prepare('UPDATE audit_log SET seq = -1 WHERE seq = 2').run();
      r0.prepare('UPDATE audit_log SET seq = 2 WHERE seq = 4').run();
      r0.prepare('UPDATE audit_log SET seq = 4 WHERE seq = -1').run();
    })();
    r0.close();
    const r = reopen(path).verifyChain();
    expect(r.problems).toEqual([
      expect.objectContaining({ seq: 2, kind: 'reordered', message: 'Entry 2 is out of order: it was written as entry 4.' }),
      expect.objectContaining({ seq: 4, kind: 'reordered', message: 'Entry 4 is out of order: it was written as entry 2.' }),
    ]);
  });

  it('keeps appending after reopen and a tampered log stays flagged', () => {
    const { db, path } = fresh(3);
    raw(path, db, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 1");
    const log = reopen(path);
    log.append({ actor: 'identity:bob', action: 'export.png', subject: { study: 'study-9' } });
    const r = log.verifyChain();
    expect(r.checked).toBe(4);
    expect(r.problems.map((p) => [p.seq, p.kind])).toEqual([[1, 'edited']]);
  });

  it('exports CSV (quoted, formula-safe) and JSON with the chain status', () => {
    const { log } = fresh(2);
    log.append({ actor: '=HYPERLINK("x")', action: 'override', subject: { study: 's,1' }, reason: 'line "one"\nline two' });
    const csv = log.exportCsv();
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe('seq,at,actor,action,study,subject,details,reason,prev_hash,hash');
    expect(csv).toContain(`"'=HYPERLINK(""x"")"`);
    expect(csv).toContain('"line ""one""\nline two"');
    expect(csv).toContain('"s,1"');
    const json = JSON.parse(log.exportJson()) as { format: string; chain: { ok: boolean }; entries: unknown[]; head: { seq: number } };
    expect(json.format).toBe('medimgshr-audit/1');
    expect(json.chain.ok).toBe(true);
    expect(json.entries).toHaveLength(3);
    expect(json.head.seq).toBe(3);
    expect(log.exportCsv({ action: 'override' }).trimEnd().split('\r\n')).toHaveLength(2); // header + one record (its line break is quoted)
  });
});
