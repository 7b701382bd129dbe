/**
 * Key images (docs/key-images.md): a reader marks the images of a study that matter; the marks are kept per
 * study (SQLite, by UIDs), recorded in the audit log, and saved as a DICOM Key Object Selection document
 * (kos.ts) that joins the library as an instance of the study. A KOS found in a study (received from a PACS,
 * imported) marks its images when the study's key images are first listed after it arrived.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError, ErrorCode } from '../../shared/errors';
import { KOS_SOP_CLASS_UID, type KeyImage, type KeyImageChange, type KeyImageList, type KeyObjectDocument, type KosSaveResult, type KosTitleCode } from '../../shared/api/keyimages';
import type { Db } from '../store/database';
import type { AuditInput } from '../audit/audit-log';
import { Task } from '../tasks';
import { studyHeader } from './study-header';
import { encodePart10, kosContent, kosDataset, readNaturalized, titleOf, type KosReference } from './kos';

export * from './kos';

export interface KeyImagesDeps {
  db: Db;
  /** Where written KOS files are kept (they are library instances: the index points at them). */
  dir: string;
  /** Adds written files to the library index (the library's import). */
  importFiles(paths: string[], task: Task): Promise<{ instanceIds: number[] }>;
  audit(input: AuditInput): void;
  actor(): string;
}

type Row = Record<string, unknown>;

interface StudyRow {
  id: number;
  uid: string;
}

export class KeyImages {
  constructor(private readonly deps: KeyImagesDeps) {}

  private get db(): Db {
    return this.deps.db;
  }

  private studyById(studyId: number): StudyRow {
    const r = this.db.prepare('SELECT id, study_uid AS uid FROM studies WHERE id = ?').get(studyId) as StudyRow | undefined;
    if (!r) throw new AppError(ErrorCode.NotFound, `Study ${studyId} is not in the library.`, 'Refresh the study list; it may have been removed.');
    return r;
  }

  /** The study of a series (the viewer knows the series it shows). */
  studyOfSeries(seriesId: number): number {
    const r = this.db.prepare('SELECT study_ref AS id FROM series WHERE id = ?').get(seriesId) as { id: number } | undefined;
    if (!r) throw new AppError(ErrorCode.NotFound, `Series ${seriesId} is not in the library.`, 'Refresh the study list; it may have been removed.');
    return r.id;
  }

  private instanceRow(instanceId: number): { sopUid: string; sopClass: string | null; seriesUid: string; studyId: number; studyUid: string } {
    const r = this.db
      .prepare(
        `SELECT i.sop_uid AS sopUid, i.sop_class AS sopClass, se.series_uid AS seriesUid, st.id AS studyId, st.study_uid AS studyUid
           FROM instances i JOIN series se ON se.id = i.series_ref JOIN studies st ON st.id = se.study_ref WHERE i.id = ?`,
      )
      .get(instanceId) as { sopUid: string; sopClass: string | null; seriesUid: string; studyId: number; studyUid: string } | undefined;
    if (!r) throw new AppError(ErrorCode.NotFound, `Image ${instanceId} is not in the library.`, 'Refresh the study list; it may have been removed.');
    return r;
  }

  /**
   * KOS documents of the study in the library that this workstation has not read yet: their images become key
   * images (once: a reader's unmark afterwards stands). A document that cannot be read is reported in the log only.
   */
  private readNewDocuments(study: StudyRow): void {
    const docs = this.db
      .prepare(
        `SELECT i.sop_uid AS sop, i.file_path AS path FROM instances i JOIN series se ON se.id = i.series_ref
          WHERE se.study_ref = ? AND i.sop_class = ? AND i.sop_uid NOT IN (SELECT sop_uid FROM key_object_documents)`,
      )
      .all(study.id, KOS_SOP_CLASS_UID) as { sop: string; path: string }[];
    for (const d of docs) {
      let content;
      try {
        content = kosContent(readNaturalized(readFileSync(d.path)));
      } catch {
        continue; // not readable as a KOS: it stays an instance of the study, and marks nothing
      }
      if (content.studyInstanceUid !== study.uid) continue;
      const now = new Date().toISOString();
      const insertMark = this.db.prepare(
        `INSERT OR IGNORE INTO key_images (study_uid, sop_uid, series_uid, sop_class, source, marked_by, marked_at) VALUES (?, ?, ?, ?, 'document', ?, ?)`,
      );
      this.db.transaction(() => {
        // a document naming another document (not an image) marks nothing for it
        for (const r of content.references) if (r.sopClassUid !== KOS_SOP_CLASS_UID) insertMark.run(study.uid, r.sopInstanceUid, r.seriesInstanceUid, r.sopClassUid, `KOS ${content.sopInstanceUid}`, now);
        this.db
          .prepare(
            `INSERT OR IGNORE INTO key_object_documents (sop_uid, study_uid, title_code, title, description, origin, referenced_json, file_path, created_at)
             VALUES (?, ?, ?, ?, ?, 'read', ?, ?, ?)`,
          )
          .run(content.sopInstanceUid, study.uid, content.title.code, content.title.meaning, content.description, JSON.stringify(content.references.map((r) => r.sopInstanceUid).sort()), d.path, now);
      })();
    }
  }

  private listOf(study: StudyRow): KeyImageList {
    this.readNewDocuments(study);
    const images = (
      this.db
        .prepare(
          `SELECT k.*, i.id AS iid, i.series_ref AS sid FROM key_images k LEFT JOIN instances i ON i.sop_uid = k.sop_uid
            WHERE k.study_uid = ? ORDER BY k.series_uid, i.number, k.sop_uid`,
        )
        .all(study.uid) as Row[]
    ).map(
      (r): KeyImage => ({
        sopInstanceUid: r.sop_uid as string,
        seriesInstanceUid: r.series_uid as string,
        sopClassUid: r.sop_class as string,
        instanceId: (r.iid as number | null) ?? null,
        seriesId: (r.sid as number | null) ?? null,
        source: r.source === 'document' ? 'document' : 'marked',
        markedAt: r.marked_at as string,
        markedBy: r.marked_by as string,
      }),
    );
    const documents = (
      this.db
        .prepare(
          `SELECT d.*, i.id AS iid FROM key_object_documents d LEFT JOIN instances i ON i.sop_uid = d.sop_uid WHERE d.study_uid = ? ORDER BY d.created_at, d.sop_uid`,
        )
        .all(study.uid) as Row[]
    ).map((r) => toDocument(r));
    return { studyId: study.id, studyInstanceUid: study.uid, images, documents };
  }

  list(q: { studyId: number } | { seriesId: number }): KeyImageList {
    const studyId = 'studyId' in q ? q.studyId : this.studyOfSeries(q.seriesId);
    return this.listOf(this.studyById(studyId));
  }

  mark(instanceId: number): KeyImageChange {
    const inst = this.instanceRow(instanceId);
    if (inst.sopClass === KOS_SOP_CLASS_UID) {
      throw new AppError(ErrorCode.InvalidArgument, 'This instance is a Key Object Selection document, not an image: only images can be key images.', 'Open an image of the study and mark it.');
    }
    if (!inst.sopClass) throw new AppError(ErrorCode.InvalidArgument, 'This image has no SOP Class UID (0008,0016), so a Key Object Selection document could not reference it.', 'Re-import the file from its source; it is not valid DICOM.');
    const actor = this.deps.actor();
    const changed =
      this.db
        .prepare(`INSERT OR IGNORE INTO key_images (study_uid, sop_uid, series_uid, sop_class, source, marked_by, marked_at) VALUES (?, ?, ?, ?, 'marked', ?, ?)`)
        .run(inst.studyUid, inst.sopUid, inst.seriesUid, inst.sopClass, actor, new Date().toISOString()).changes > 0;
    if (changed) this.deps.audit({ actor, action: 'key-image.mark', subject: { study: inst.studyUid, series: inst.seriesUid, instances: [inst.sopUid] } });
    return { ...this.listOf(this.studyById(inst.studyId)), changed };
  }

  unmark(instanceId: number): KeyImageChange {
    const inst = this.instanceRow(instanceId);
    const changed = this.db.prepare('DELETE FROM key_images WHERE study_uid = ? AND sop_uid = ?').run(inst.studyUid, inst.sopUid).changes > 0;
    if (changed) this.deps.audit({ actor: this.deps.actor(), action: 'key-image.unmark', subject: { study: inst.studyUid, series: inst.seriesUid, instances: [inst.sopUid] } });
    return { ...this.listOf(this.studyById(inst.studyId)), changed };
  }

  /** Patient / study attributes as an image of the study says them (read with dcmjs, header only). */
  private studyAttributes(study: StudyRow): Promise<Record<string, unknown>> {
    return studyHeader(this.db, study.id, [KOS_SOP_CLASS_UID]);
  }

  /**
   * Writes the study's key images as a KOS document and adds it to the library. Saving the same images under the
   * same title again writes nothing new (the study's newest saved document already says it).
   */
  async save(req: { studyId: number; title?: KosTitleCode; description?: string }): Promise<KosSaveResult> {
    const study = this.studyById(req.studyId);
    const before = this.listOf(study);
    if (before.images.length === 0) {
      throw new AppError(ErrorCode.InvalidArgument, 'This study has no key images to save.', 'Mark the images that matter first (the ☆ button or the K key), then save.');
    }
    const title = titleOf(req.title);
    const description = req.description?.trim() || null;
    const refs: KosReference[] = before.images.map((i) => ({ seriesInstanceUid: i.seriesInstanceUid, sopClassUid: i.sopClassUid, sopInstanceUid: i.sopInstanceUid }));
    const referenced = JSON.stringify(refs.map((r) => r.sopInstanceUid).sort());

    const last = this.db
      .prepare(
        `SELECT d.*, i.id AS iid FROM key_object_documents d JOIN instances i ON i.sop_uid = d.sop_uid
          WHERE d.study_uid = ? AND d.origin = 'saved' ORDER BY d.created_at DESC, d.rowid DESC LIMIT 1`,
      )
      .get(study.uid) as Row | undefined;
    if (last && last.referenced_json === referenced && last.title_code === title.CodeValue && (last.description ?? null) === description) {
      return { document: toDocument(last), filePath: last.file_path as string, unchanged: true, list: before };
    }

    const attrs = await this.studyAttributes(study);
    if (attrs.StudyInstanceUID !== study.uid) {
      throw new AppError(ErrorCode.Conflict, `The study's file says Study Instance UID ${String(attrs.StudyInstanceUID)}, the library ${study.uid}.`, 'Re-import the study so the index matches its files.');
    }
    const usedNumbers = this.db.prepare('SELECT se.number AS n FROM series se WHERE se.study_ref = ?').all(study.id) as { n: number | null }[];
    const seriesNumber = Math.max(900, ...usedNumbers.map((x) => x.n ?? 0)) + 1;
    const ds = kosDataset({ study: attrs, references: refs, title: req.title, description, seriesNumber });
    const sop = ds.SOPInstanceUID as string;
    const dir = join(this.deps.dir, study.uid);
    await mkdir(dir, { recursive: true });
    const filePath = join(dir, `KO-${sop}.dcm`);
    await writeFile(filePath, encodePart10(ds));
    const now = new Date().toISOString();
    this.db
      .prepare(
        `INSERT INTO key_object_documents (sop_uid, study_uid, title_code, title, description, origin, referenced_json, file_path, created_at)
         VALUES (?, ?, ?, ?, ?, 'saved', ?, ?, ?)`,
      )
      .run(sop, study.uid, title.CodeValue, title.CodeMeaning, description, referenced, filePath, now);
    const imported = await this.deps.importFiles([filePath], new Task('key-object-import', 1, () => {}));
    if (imported.instanceIds.length !== 1) {
      throw new AppError(ErrorCode.Internal, `The Key Object Selection document was written (${filePath}) but the library did not take it in.`, 'Import that file by hand (Import → files).');
    }
    this.deps.audit({
      actor: this.deps.actor(),
      action: 'key-image.save',
      subject: { study: study.uid, instances: refs.map((r) => r.sopInstanceUid) },
      details: { document: sop, title: title.CodeMeaning, images: refs.length },
    });
    const list = this.listOf(study);
    const document = list.documents.find((d) => d.sopInstanceUid === sop)!;
    return { document, filePath, unchanged: false, list };
  }
}

function toDocument(r: Row): KeyObjectDocument {
  return {
    sopInstanceUid: r.sop_uid as string,
    instanceId: (r.iid as number | null) ?? null,
    title: { code: r.title_code as string, meaning: r.title as string },
    description: (r.description as string | null) ?? null,
    origin: r.origin === 'saved' ? 'saved' : 'read',
    referenced: (JSON.parse(r.referenced_json as string) as string[]).length,
    createdAt: r.created_at as string,
  };
}
