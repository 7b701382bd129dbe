/** The study browser's and the viewer's questions to the library index (read only). */
import type { Db } from '../store/database';
import { AppError, ErrorCode } from '../../shared/errors';
import type { InstanceSummary, PatientSummary, SeriesSummary, SortKey, SortOrder, StudySummary, TagNode } from '../../shared/api/library';
import { readDicomFile } from '../dicom/parse';
import { transferSyntaxName } from '../dicom/transfer-syntaxes';
import { tagTree } from '../dicom/tags';
import { numbersColumn } from '../store/columns';

type Row = Record<string, unknown>;

function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
}

export class LibraryQueries {
  constructor(private readonly db: Db) {}

  patients(q: { search?: string; sort?: SortKey; order?: SortOrder; limit?: number } = {}): { patients: PatientSummary[]; total: number } {
    const where = q.search ? `WHERE p.name LIKE @s ESCAPE '\\' OR p.patient_id LIKE @s ESCAPE '\\'` : '';
    const sortCol = { name: 'p.name', id: 'p.patient_id', date: 'MAX(st.study_date)', modality: 'MIN(se.modality)' }[q.sort ?? 'name'];
    const order = q.order ?? (q.sort === 'date' ? 'desc' : 'asc');
    const rows = this.db
      .prepare(
        `SELECT p.id, p.patient_id, p.name, p.birth_date, p.sex,
           COUNT(DISTINCT st.id) AS studies, COUNT(DISTINCT se.id) AS series, COUNT(i.id) AS instances
         FROM patients p LEFT JOIN studies st ON st.patient_ref = p.id LEFT JOIN series se ON se.study_ref = st.id
         LEFT JOIN instances i ON i.series_ref = se.id AND i.copy_of IS NULL
         ${where} GROUP BY p.id ORDER BY ${sortCol} ${order === 'desc' ? 'DESC' : 'ASC'}, p.id LIMIT @limit`,
      )
      .all({ s: likePattern(q.search ?? ''), limit: q.limit ?? 1000 }) as Row[];
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM patients p ${where}`).get({ s: likePattern(q.search ?? '') }) as { n: number }).n;
    return {
      total,
      patients: rows.map((r) => ({
        id: r.id as number,
        patientId: r.patient_id as string,
        name: r.name as string,
        birthDate: (r.birth_date as string | null) ?? null,
        sex: (r.sex as string | null) ?? null,
        studyCount: r.studies as number,
        seriesCount: r.series as number,
        instanceCount: r.instances as number,
      })),
    };
  }

  private studySelect(where: string, orderLimit = ''): string {
    return `SELECT st.*, p.id AS pid, p.patient_id AS ppid, p.name AS pname, p.birth_date AS pbirth, p.sex AS psex,
        (SELECT GROUP_CONCAT(DISTINCT se2.modality) FROM series se2 WHERE se2.study_ref = st.id) AS modalities,
        (SELECT COUNT(*) FROM series se3 WHERE se3.study_ref = st.id) AS series_count,
        (SELECT COUNT(*) FROM instances i JOIN series se4 ON i.series_ref = se4.id WHERE se4.study_ref = st.id AND i.copy_of IS NULL) AS instance_count
      FROM studies st JOIN patients p ON p.id = st.patient_ref ${where} ${orderLimit}`;
  }

  private toStudy(r: Row): StudySummary {
    return {
      id: r.id as number,
      patient: { id: r.pid as number, patientId: r.ppid as string, name: r.pname as string, birthDate: (r.pbirth as string) ?? null, sex: (r.psex as string) ?? null },
      studyInstanceUid: r.study_uid as string,
      studyId: (r.study_id as string) ?? null,
      date: (r.study_date as string) ?? null,
      time: (r.study_time as string) ?? null,
      description: (r.description as string) ?? null,
      accessionNumber: (r.accession as string) ?? null,
      referringPhysician: (r.referring as string) ?? null,
      modalities: r.modalities ? String(r.modalities).split(',').filter((m) => m !== '').sort() : [],
      seriesCount: r.series_count as number,
      instanceCount: r.instance_count as number,
      synthetic: Boolean(r.synthetic),
    };
  }

  studies(q: { patientId?: number; search?: string; sort?: SortKey; order?: SortOrder; limit?: number } = {}): { studies: StudySummary[]; total: number } {
    const conds: string[] = [];
    if (q.patientId !== undefined) conds.push('st.patient_ref = @pid');
    if (q.search)
      conds.push(
        `(p.name LIKE @s ESCAPE '\\' OR p.patient_id LIKE @s ESCAPE '\\' OR st.description LIKE @s ESCAPE '\\' OR st.accession LIKE @s ESCAPE '\\'
          OR st.study_date LIKE @s ESCAPE '\\' OR EXISTS (SELECT 1 FROM series sx WHERE sx.study_ref = st.id AND (sx.modality LIKE @s ESCAPE '\\' OR sx.description LIKE @s ESCAPE '\\')))`,
      );
    const where = conds.length ? `WHERE ${conds.join(' AND ')}` : '';
    const sortCol = { name: 'p.name', id: 'p.patient_id', date: 'st.study_date', modality: 'modalities' }[q.sort ?? 'date'];
    const order = q.order ?? ((q.sort ?? 'date') === 'date' ? 'desc' : 'asc');
    const params = { pid: q.patientId ?? null, s: likePattern(q.search ?? ''), limit: q.limit ?? 1000 };
    const rows = this.db.prepare(this.studySelect(where, `ORDER BY ${sortCol} ${order === 'desc' ? 'DESC' : 'ASC'}, st.id LIMIT @limit`)).all(params) as Row[];
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM studies st JOIN patients p ON p.id = st.patient_ref ${where}`).get(params) as { n: number }).n;
    return { studies: rows.map((r) => this.toStudy(r)), total };
  }

  /** The indexed study with this Study Instance UID, or null (the audit log names the patient of a study by it). */
  studyByUid(studyInstanceUid: string): StudySummary | null {
    const r = this.db.prepare('SELECT id FROM studies WHERE study_uid = ?').get(studyInstanceUid) as { id: number } | undefined;
    return r ? this.study(r.id) : null;
  }

  study(studyId: number): StudySummary {
    const r = this.db.prepare(this.studySelect('WHERE st.id = ?')).get(studyId) as Row | undefined;
    if (!r) throw new AppError(ErrorCode.NotFound, `Study ${studyId} is not in the library.`, 'Refresh the study list; it may have been removed.');
    return this.toStudy(r);
  }

  private toSeries(r: Row): SeriesSummary {
    return {
      id: r.id as number,
      studyId: r.study_ref as number,
      seriesInstanceUid: r.series_uid as string,
      modality: (r.modality as string) ?? null,
      number: (r.number as number) ?? null,
      description: (r.description as string) ?? null,
      bodyPart: (r.body_part as string) ?? null,
      date: (r.series_date as string) ?? null,
      instanceCount: r.instance_count as number,
      frameCount: (r.frame_count as number) ?? 0,
      thumbnailUrl: `/thumbnail/${r.id as number}.png`,
      copies: this.db.prepare('SELECT source, COUNT(*) AS n FROM instances WHERE series_ref = ? AND copy_of IS NOT NULL GROUP BY source ORDER BY source').all(r.id).map((c) => {
        const x = c as { source: string; n: number };
        return { source: x.source, instanceCount: x.n };
      }),
    };
  }

  private seriesSelect(where: string): string {
    return `SELECT se.*, (SELECT COUNT(*) FROM instances i WHERE i.series_ref = se.id AND i.copy_of IS NULL) AS instance_count,
        (SELECT COALESCE(SUM(frames), 0) FROM instances i WHERE i.series_ref = se.id AND i.copy_of IS NULL) AS frame_count
      FROM series se ${where}`;
  }

  series(studyId: number): { study: StudySummary; series: SeriesSummary[] } {
    const study = this.study(studyId);
    const rows = this.db.prepare(this.seriesSelect('WHERE se.study_ref = ? ORDER BY se.number IS NULL, se.number, se.id')).all(studyId) as Row[];
    return { study, series: rows.map((r) => this.toSeries(r)) };
  }

  oneSeries(seriesId: number): SeriesSummary {
    const r = this.db.prepare(this.seriesSelect('WHERE se.id = ?')).get(seriesId) as Row | undefined;
    if (!r) throw new AppError(ErrorCode.NotFound, `Series ${seriesId} is not in the library.`, 'Refresh the study; it may have been removed.');
    return this.toSeries(r);
  }

  private toInstance(r: Row): InstanceSummary {
    return {
      id: r.id as number,
      seriesId: r.series_ref as number,
      sopInstanceUid: r.sop_uid as string,
      sopClassUid: (r.sop_class as string) ?? null,
      number: (r.number as number) ?? null,
      frames: r.frames as number,
      rows: (r.rows as number) ?? null,
      columns: (r.columns as number) ?? null,
      bitsAllocated: (r.bits_allocated as number) ?? null,
      photometric: (r.photometric as string) ?? null,
      geometry: {
        imagePositionPatient: numbersColumn(r.image_position),
        imageOrientationPatient: numbersColumn(r.image_orientation),
        pixelSpacing: numbersColumn(r.pixel_spacing),
        sliceThickness: (r.slice_thickness as number) ?? null,
        sliceLocation: (r.slice_location as number) ?? null,
      },
      transferSyntaxUid: r.transfer_syntax as string,
      transferSyntaxName: transferSyntaxName(r.transfer_syntax as string),
      windowCenter: (r.window_center as number) ?? null,
      windowWidth: (r.window_width as number) ?? null,
      rescaleSlope: (r.rescale_slope as number) ?? null,
      rescaleIntercept: (r.rescale_intercept as number) ?? null,
      hasPixels: Boolean(r.has_pixels),
      filePath: r.file_path as string,
      fileSize: r.file_size as number,
      url: `/dicom/${r.id as number}`,
      source: (r.source as string) ?? 'local',
      copyOf: (r.copy_of as number | null) ?? null,
    };
  }

  /**
   * Instances of a series in viewing order: instance number, then position along the slice normal.
   * One per SOP Instance UID: the library's; with `source`, that source's copy where it returned
   * other bytes (the series as that PACS has it).
   */
  instances(seriesId: number, source?: string): { series: SeriesSummary; instances: InstanceSummary[] } {
    const series = this.oneSeries(seriesId);
    const list = (this.seriesRows(seriesId, source, '*') as Row[]).map((r) => this.toInstance(r));
    return {
      series,
      instances: inViewingOrder(list, (i) => ({ id: i.id, number: i.number, position: i.geometry.imagePositionPatient, orientation: i.geometry.imageOrientationPatient, sliceLocation: i.geometry.sliceLocation })),
    };
  }

  /**
   * What a viewport's stack needs of a series, in the same viewing order as `instances`: each
   * instance's id and image count, and which are a source's copies. A few bytes an instance where the
   * full list is ≈ 720: a 2,000-image series' first image no longer waits behind 1.4 MB of JSON.
   */
  stack(seriesId: number, source?: string): { series: SeriesSummary; ids: number[]; frames: number[]; copies: { id: number; source: string }[] } {
    const series = this.oneSeries(seriesId);
    type Lean = { id: number; number: number | null; frames: number; has_pixels: number; image_position: string | null; image_orientation: string | null; slice_location: number | null; source: string | null; copy_of: number | null };
    const rows = this.seriesRows(seriesId, source, 'i.id, i.number, i.frames, i.has_pixels, i.image_position, i.image_orientation, i.slice_location, i.source, i.copy_of') as Lean[];
    const ordered = inViewingOrder(rows, (r) => ({ id: r.id, number: r.number ?? null, position: numbersColumn(r.image_position), orientation: numbersColumn(r.image_orientation), sliceLocation: r.slice_location ?? null }));
    return {
      series,
      ids: ordered.map((r) => r.id),
      // an instance without Pixel Data is one place in the stack (it shows why it has no image)
      frames: ordered.map((r) => (r.has_pixels ? Math.max(1, r.frames) : 1)),
      copies: ordered.filter((r) => r.copy_of !== null).map((r) => ({ id: r.id, source: r.source ?? 'local' })),
    };
  }

  /** The instance rows of a series (`columns` of table alias i), as `instances` explains. */
  private seriesRows(seriesId: number, source: string | undefined, columns: string): unknown[] {
    return source
      ? this.db
          .prepare(
            `SELECT ${columns} FROM instances i WHERE i.series_ref = @se AND ((i.copy_of IS NULL AND NOT EXISTS (SELECT 1 FROM instances c WHERE c.copy_of = i.id AND c.source = @src))
               OR (i.copy_of IS NOT NULL AND i.source = @src))`,
          )
          .all({ se: seriesId, src: source })
      : this.db.prepare(`SELECT ${columns} FROM instances i WHERE i.series_ref = ? AND i.copy_of IS NULL`).all(seriesId);
  }

  instance(instanceId: number): InstanceSummary {
    const r = this.db.prepare('SELECT * FROM instances WHERE id = ?').get(instanceId) as Row | undefined;
    if (!r) throw new AppError(ErrorCode.NotFound, `Instance ${instanceId} is not in the library.`, 'Refresh the series; it may have been removed.');
    return this.toInstance(r);
  }

  /** The instance indexed from this file, with its series and study ids (null when the file is not indexed). */
  instanceAtPath(path: string): { instanceId: number; seriesId: number; studyId: number } | null {
    const r = this.db.prepare('SELECT i.id AS i, i.series_ref AS se, s.study_ref AS st FROM instances i JOIN series s ON s.id = i.series_ref WHERE i.file_path = ?').get(path) as
      | { i: number; se: number; st: number }
      | undefined;
    return r ? { instanceId: r.i, seriesId: r.se, studyId: r.st } : null;
  }

  /**
   * Where a SOP Instance UID is in the library as `source` has it: that source's copy when it
   * returned other bytes, else the library's instance (null when not indexed).
   */
  instanceOfSop(sopInstanceUid: string, source?: string): { instanceId: number; seriesId: number; studyId: number; copy: boolean } | null {
    const r = this.db
      .prepare(
        `SELECT i.id AS i, i.series_ref AS se, s.study_ref AS st, i.copy_of AS c FROM instances i JOIN series s ON s.id = i.series_ref
         WHERE i.sop_uid = @sop AND (i.copy_of IS NULL OR i.source = @src) ORDER BY i.copy_of IS NULL LIMIT 1`,
      )
      .get({ sop: sopInstanceUid, src: source ?? 'local' }) as { i: number; se: number; st: number; c: number | null } | undefined;
    return r ? { instanceId: r.i, seriesId: r.se, studyId: r.st, copy: r.c !== null } : null;
  }

  /** The file behind an indexed instance (the only paths /dicom/ ever serves). */
  instanceFile(instanceId: number): { path: string; size: number; mtimeMs: number; sha256: string | null } | null {
    const r = this.db.prepare('SELECT file_path, file_size, file_mtime, sha256 FROM instances WHERE id = ?').get(instanceId) as
      | { file_path: string; file_size: number; file_mtime: number; sha256: string | null }
      | undefined;
    return r ? { path: r.file_path, size: r.file_size, mtimeMs: r.file_mtime, sha256: r.sha256 } : null;
  }

  /** The instance's tags, read from `path` (default: its indexed file). */
  async tags(instanceId: number, path?: string): Promise<{ instanceId: number; transferSyntaxUid: string; meta: TagNode[]; dataset: TagNode[] }> {
    const inst = this.instance(instanceId);
    const parsed = await readDicomFile(path ?? inst.filePath, { headerOnly: inst.fileSize > 64 * 1024 * 1024 });
    return { instanceId, transferSyntaxUid: parsed.transferSyntaxUid, meta: tagTree(parsed.dataSet, 'meta'), dataset: tagTree(parsed.dataSet, 'dataset') };
  }

  /** The middle instance of a series with pixels, for its thumbnail. */
  thumbnailSource(seriesId: number): InstanceSummary | null {
    const { instances } = this.instances(seriesId);
    const withPixels = instances.filter((i) => i.hasPixels);
    return withPixels[Math.floor(withPixels.length / 2)] ?? null;
  }
}

interface OrderKey {
  id: number;
  number: number | null;
  position: number[] | null;
  orientation: number[] | null;
  sliceLocation: number | null;
}

/**
 * Viewing order: instance number, then position along the slice normal, then id. Sort keys computed
 * once per instance (not twice per comparison): a 2,000-image series opens faster (npm run bench scale).
 */
function inViewingOrder<T>(items: T[], keyOf: (t: T) => OrderKey): T[] {
  const along = (k: OrderKey): number => {
    const p = k.position;
    const o = k.orientation;
    if (!p) return k.sliceLocation ?? 0;
    if (!o) return p[2]!;
    const n = [o[1]! * o[5]! - o[2]! * o[4]!, o[2]! * o[3]! - o[0]! * o[5]!, o[0]! * o[4]! - o[1]! * o[3]!];
    return p[0]! * n[0]! + p[1]! * n[1]! + p[2]! * n[2]!;
  };
  const keyed = items.map((t) => {
    const k = keyOf(t);
    return { t, id: k.id, n: k.number ?? Number.MAX_SAFE_INTEGER, z: along(k) };
  });
  keyed.sort((a, b) => (a.n !== b.n ? a.n - b.n : a.z !== b.z ? a.z - b.z : a.id - b.id));
  return keyed.map((k) => k.t);
}
