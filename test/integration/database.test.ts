import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { migrate, openDatabase, schemaVersion } from '../../src/node/store/database';
import { migrations, type Migration } from '../../src/node/store/migrations';
import { tempDir } from '../support/tmp';

const dirs: { cleanup(): void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));
function dbPath(): string {
  const d = tempDir();
  dirs.push(d);
  return join(d.path, 'test.sqlite');
}

describe('SQLite store (real file)', () => {
  it('opens in WAL mode at the newest schema version', () => {
    const db = openDatabase(dbPath());
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(schemaVersion(db)).toBe(Math.max(...migrations.map((m) => m.version)));
    db.close();
  });

  it('applies only new migrations on reopen and keeps existing rows', () => {
    const path = dbPath();
    const v1: Migration[] = [{ version: 1, name: 'a', up: 'CREATE TABLE t (x INTEGER)' }];
    let db = openDatabase(path, v1);
    db.prepare('INSERT INTO t VALUES (42)').run();
    db.close();
    db = openDatabase(path, [...v1, { version: 2, name: 'b', up: 'ALTER TABLE t ADD COLUMN y TEXT' }]);
    expect(schemaVersion(db)).toBe(2);
    expect(db.prepare('SELECT x, y FROM t').all()).toEqual([{ x: 42, y: null }]);
    db.close();
  });

  it('applies a migration that landed after higher versions were applied', () => {
    const path = dbPath();
    openDatabase(path, [
      { version: 1, name: 'a', up: 'CREATE TABLE a (x)' },
      { version: 3, name: 'c', up: 'CREATE TABLE c (x)' },
    ]).close();
    const db = openDatabase(path, [
      { version: 1, name: 'a', up: 'CREATE TABLE a (x)' },
      { version: 2, name: 'b', up: 'CREATE TABLE b (x)' },
      { version: 3, name: 'c', up: 'CREATE TABLE c (x)' },
    ]);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'b'").get()).toEqual({ name: 'b' });
    expect((db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map((r) => r.version)).toEqual([1, 2, 3]);
    db.close();
  });

  it('rolls back a failing migration and stays at the last good version', () => {
    const path = dbPath();
    const db = new Database(path);
    const list: Migration[] = [
      { version: 1, name: 'ok', up: 'CREATE TABLE t (x INTEGER)' },
      { version: 2, name: 'broken', up: 'CREATE TABLE u (y INTEGER); INSERT INTO nope VALUES (1);' },
    ];
    expect(() => migrate(db, list)).toThrow(/nope/);
    expect(schemaVersion(db)).toBe(1);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'u'").get()).toBeUndefined();
    db.close();
  });

  it('refuses a database written by a newer app instead of damaging it', () => {
    const path = dbPath();
    openDatabase(path, [{ version: 7, name: 'future', up: 'CREATE TABLE f (x)' }]).close();
    expect(() => openDatabase(path, [{ version: 1, name: 'old', up: 'CREATE TABLE o (x)' }])).toThrow(/newer than this app knows/);
  });
});
