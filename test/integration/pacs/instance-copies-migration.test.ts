/**
 * Migration 013 on a real SQLite file holding a library at schema 12: the instances keep their ids
 * and values, each gets its source (a file retrieved from a PACS connection: "pacs:<name>"; one
 * received by the Storage SCP: "scp:<calling AE>"; else "local"), and the one-per-SOP-UID rule now
 * holds for the library's instances only, so a copy of an instance from another source can be
 * indexed next to it (one per source).
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, schemaVersion } from '../../../src/node/store/database';
import { migrations } from '../../../src/node/store/migrations';
import { tempDir } from '../../support/tmp';

const tmp = tempDir('medimg-013-');
afterAll(() => tmp.cleanup());

const row = (id: number, sop: string, path: string) => ({ id, sop, path });

describe('migration 013: instance sources and PACS copies', () => {
  it('keeps every instance, sets its source, and allows a copy next to the original (not a second original)', () => {
    const file = join(tmp.path, 'lib.sqlite');
    let db = openDatabase(
      file,
      migrations.filter((m) => m.version <= 12),
    );
    expect(schemaVersion(db)).toBe(12);
    const now = new Date().toISOString();
    db.prepare("INSERT INTO patients (id, patient_key, patient_id, name) VALUES (1, 'P1\u001fDOE^JANE', 'P1', 'DOE^JANE')").run();
    db.prepare("INSERT INTO studies (id, patient_ref, study_uid) VALUES (1, 1, '1.2.3')").run();
    db.prepare("INSERT INTO series (id, study_ref, series_uid, modality) VALUES (1, 1, '1.2.3.1', 'CT')").run();
    const ins = db.prepare(
      "INSERT INTO instances (id, series_ref, sop_uid, transfer_syntax, file_path, file_size, file_mtime, sha256, indexed_at) VALUES (@id, 1, @sop, '1.2.840.10008.1.2.1', @path, 10, 1, NULL, ?)",
    );
    for (const r of [row(7, '1.2.3.1.1', '/data/a.dcm'), row(8, '1.2.3.1.2', '/cache/pacs/ab/abc.dcm'), row(9, '1.2.3.1.3', '/cache/pacs/cd/cde.dcm')]) ins.run(r, now);
    db.prepare("INSERT INTO pacs_connections (id, name, created_at, updated_at) VALUES (3, 'Orthanc', ?, ?)").run(now, now);
    db.prepare("INSERT INTO pacs_instances (sop_instance_uid, sha256, path, size, connection_id, via, state, received_at) VALUES ('1.2.3.1.2', 'abc', '/cache/pacs/ab/abc.dcm', 10, 3, 'wado-rs', 'imported', ?)").run(now);
    db.prepare("INSERT INTO pacs_instances (sop_instance_uid, sha256, path, size, connection_id, via, calling_aet, state, received_at) VALUES ('1.2.3.1.3', 'cde', '/cache/pacs/cd/cde.dcm', 10, NULL, 'c-store', 'CT_SCANNER', 'imported', ?)").run(now);
    db.close();

    db = openDatabase(file);
    expect(schemaVersion(db)).toBeGreaterThanOrEqual(13);
    expect(db.prepare('SELECT id, sop_uid, file_path, source, copy_of FROM instances ORDER BY id').all()).toEqual([
      { id: 7, sop_uid: '1.2.3.1.1', file_path: '/data/a.dcm', source: 'local', copy_of: null },
      { id: 8, sop_uid: '1.2.3.1.2', file_path: '/cache/pacs/ab/abc.dcm', source: 'pacs:Orthanc', copy_of: null },
      { id: 9, sop_uid: '1.2.3.1.3', file_path: '/cache/pacs/cd/cde.dcm', source: 'scp:CT_SCANNER', copy_of: null },
    ]);
    const add = db.prepare(
      "INSERT INTO instances (series_ref, sop_uid, transfer_syntax, file_path, file_size, file_mtime, indexed_at, source, copy_of) VALUES (1, '1.2.3.1.1', '1.2.840.10008.1.2.1', @path, 10, 1, ?, @source, @of)",
    );
    // a second library instance of the same SOP Instance UID: refused by the schema
    expect(() => add.run({ path: '/data/b.dcm', source: 'local', of: null }, now)).toThrow(/UNIQUE/);
    // a copy from a PACS: accepted, one per source
    add.run({ path: '/cache/pacs/ef/ef1.dcm', source: 'pacs:Orthanc', of: 7 }, now);
    expect(() => add.run({ path: '/cache/pacs/ef/ef2.dcm', source: 'pacs:Orthanc', of: 7 }, now)).toThrow(/UNIQUE/);
    add.run({ path: '/cache/pacs/ef/ef3.dcm', source: 'pacs:Other', of: 7 }, now);
    // removing the series removes its copies with it
    db.prepare('DELETE FROM series WHERE id = 1').run();
    expect((db.prepare('SELECT COUNT(*) AS n FROM instances').get() as { n: number }).n).toBe(0);
    db.close();
  });
});
