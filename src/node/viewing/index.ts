/**
 * Linked viewing (docs/linked-viewing.md): the reader's hanging protocols (SQLite, migration 017), the
 * first screen of a study they give, a series' Frame of Reference UID (reference lines and scrolling by
 * position need it; the index does not keep it, the first image's header has it) and the same patient's
 * earlier studies for a prior comparison.
 */
import { DEFAULT_PROTOCOLS, planHanging, protocolProblem, type HangingProtocol, type StudySeries } from '../../core/hanging/protocols';
import type { HangingPlan, HangingProtocolList, PriorSearch, PriorStudy } from '../../shared/api/viewing';
import { AppError, ErrorCode } from '../../shared/errors';
import { readDicomFile } from '../dicom/parse';
import type { Db } from '../store/database';

interface SeriesRow {
  id: number;
  studyId: number;
  modality: string | null;
  bodyPart: string | null;
  number: number | null;
  description: string | null;
}

const notInLibrary = (what: string) => new AppError(ErrorCode.NotFound, `${what} is not in the library.`, 'Refresh the study list; it may have been removed.');

export class Viewing {
  /** Header values by file (path), read once: a Frame of Reference UID or an issuer does not change while the file stays. */
  private readonly headers = new Map<string, Promise<{ frameOfReferenceUid: string | null; issuer: string }>>();

  constructor(
    private readonly db: Db,
    private readonly actor: () => string = () => 'local user',
  ) {}

  // ---- hanging protocols

  listProtocols(): HangingProtocolList {
    const row = this.db.prepare('SELECT protocols_json AS json FROM hanging_protocols WHERE id = 1').get() as { json: string } | undefined;
    if (!row) return { protocols: DEFAULT_PROTOCOLS.map((p) => ({ ...p, modalities: [...p.modalities], cells: p.cells.map((c) => ({ ...c })) })), source: 'built-in' };
    return { protocols: JSON.parse(row.json) as HangingProtocol[], source: 'saved' };
  }

  saveProtocols(list: HangingProtocol[]): HangingProtocolList {
    const clean = list.map((p) => ({ ...p, name: p.name.trim(), bodyPart: p.bodyPart.trim().toUpperCase(), modalities: p.modalities.map((m) => m.trim().toUpperCase()).filter(Boolean) }));
    for (const p of clean) {
      const problem = protocolProblem(p);
      if (problem) throw new AppError(ErrorCode.InvalidArgument, problem, 'Correct the protocol and save again; nothing was saved.');
    }
    const ids = new Set<string>();
    for (const p of clean) {
      if (ids.has(p.id)) throw new AppError(ErrorCode.InvalidArgument, `Two protocols share the id "${p.id}".`, 'Save again from the settings; nothing was saved.');
      ids.add(p.id);
    }
    this.db
      .prepare(
        `INSERT INTO hanging_protocols (id, protocols_json, saved_by, saved_at) VALUES (1, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET protocols_json = excluded.protocols_json, saved_by = excluded.saved_by, saved_at = excluded.saved_at`,
      )
      .run(JSON.stringify(clean), this.actor(), new Date().toISOString());
    return this.listProtocols();
  }

  resetProtocols(): HangingProtocolList {
    this.db.prepare('DELETE FROM hanging_protocols').run();
    return this.listProtocols();
  }

  /** The study's series as the protocols match them (library originals with pixels counted as images). */
  studySeries(studyId: number): StudySeries[] {
    if (!this.db.prepare('SELECT 1 FROM studies WHERE id = ?').get(studyId)) throw notInLibrary(`Study ${studyId}`);
    const rows = this.db
      .prepare(
        `SELECT se.id, se.modality, se.body_part AS bodyPart, se.number,
                (SELECT COALESCE(SUM(i.frames), 0) FROM instances i WHERE i.series_ref = se.id AND i.has_pixels = 1 AND i.copy_of IS NULL) AS images
           FROM series se WHERE se.study_ref = ?`,
      )
      .all(studyId) as { id: number; modality: string | null; bodyPart: string | null; number: number | null; images: number }[];
    return rows.map((r) => ({ id: r.id, modality: r.modality ?? '', bodyPart: r.bodyPart ?? '', number: r.number, images: r.images }));
  }

  plan(studyId: number): HangingPlan {
    return { studyId, ...planHanging(this.listProtocols().protocols, this.studySeries(studyId)) };
  }

  // ---- header values the index does not keep

  private firstImagePath(seriesId: number): string | null {
    const r = this.db
      .prepare('SELECT file_path AS path FROM instances WHERE series_ref = ? AND copy_of IS NULL ORDER BY has_pixels DESC, number, id LIMIT 1')
      .get(seriesId) as { path: string } | undefined;
    return r?.path ?? null;
  }

  private header(path: string): Promise<{ frameOfReferenceUid: string | null; issuer: string }> {
    let p = this.headers.get(path);
    if (!p) {
      p = readDicomFile(path, { headerOnly: true }).then((f) => ({
        frameOfReferenceUid: f.dataSet.string('x00200052')?.trim() || null,
        issuer: f.dataSet.string('x00100021')?.trim() ?? '',
      }));
      this.headers.set(path, p);
      p.catch(() => this.headers.delete(path));
    }
    return p;
  }

  private seriesRow(seriesId: number): SeriesRow {
    const r = this.db
      .prepare('SELECT id, study_ref AS studyId, modality, body_part AS bodyPart, number, description FROM series WHERE id = ?')
      .get(seriesId) as SeriesRow | undefined;
    if (!r) throw notInLibrary(`Series ${seriesId}`);
    return r;
  }

  async frameOfReference(seriesId: number): Promise<{ seriesId: number; frameOfReferenceUid: string | null }> {
    this.seriesRow(seriesId);
    const path = this.firstImagePath(seriesId);
    if (!path) return { seriesId, frameOfReferenceUid: null };
    try {
      return { seriesId, frameOfReferenceUid: (await this.header(path)).frameOfReferenceUid };
    } catch {
      // An unreadable file: no frame of reference, so no reference lines — the viewport says why it cannot show the image.
      return { seriesId, frameOfReferenceUid: null };
    }
  }

  // ---- priors

  /**
   * The same patient's earlier studies with the open series' modality: same Patient ID and Issuer of Patient
   * ID (0010,0021) (an empty issuer matches only an empty one), an earlier Study Date (and Time), most recent
   * first. Patient names are not compared: the same ID from the same issuer is the same patient.
   */
  async priors(seriesId: number): Promise<PriorSearch> {
    const open = this.seriesRow(seriesId);
    const study = this.db
      .prepare('SELECT st.id, st.study_uid AS uid, st.study_date AS date, st.study_time AS time, p.patient_id AS patientId FROM studies st JOIN patients p ON p.id = st.patient_ref WHERE st.id = ?')
      .get(open.studyId) as { id: number; uid: string; date: string | null; time: string | null; patientId: string };
    const modality = (open.modality ?? '').trim();
    const issuer = await this.issuerOfStudy(open.studyId);
    const current = {
      studyId: study.id,
      studyInstanceUid: study.uid,
      date: study.date,
      time: study.time,
      modality,
      patientId: study.patientId,
      issuer,
      series: { number: open.number === null ? null : Number(open.number), description: open.description },
    };
    const none = (message: string): PriorSearch => ({ current, priors: [], message });
    if (!study.patientId.trim()) return none('This study has no Patient ID, so its earlier studies cannot be found: compare by dragging a series of the other study into a viewport.');
    if (!modality) return none('The open series has no modality, so a prior of the same modality cannot be chosen.');
    if (!study.date) return none('The open study has no Study Date, so which studies are earlier cannot be told.');
    const key = (d: string | null, t: string | null) => `${d ?? ''}${(t ?? '').padEnd(6, '0').slice(0, 6)}`;
    const rows = this.db
      .prepare(
        `SELECT st.id, st.study_date AS date, st.study_time AS time, st.description
           FROM studies st JOIN patients p ON p.id = st.patient_ref
          WHERE p.patient_id = ? AND st.id != ? AND st.study_date IS NOT NULL AND st.study_date != ''
            AND EXISTS (SELECT 1 FROM series se WHERE se.study_ref = st.id AND UPPER(TRIM(se.modality)) = UPPER(?))`,
      )
      .all(study.patientId, study.id, modality) as { id: number; date: string; time: string | null; description: string | null }[];
    const earlier = rows.filter((r) => key(r.date, r.time) < key(study.date, study.time)).sort((a, b) => (key(b.date, b.time) < key(a.date, a.time) ? -1 : 1));
    const priors: PriorStudy[] = [];
    for (const r of earlier) {
      if ((await this.issuerOfStudy(r.id).catch(() => null)) !== issuer) continue;
      const seriesIdOfPrior = this.comparableSeries(r.id, open);
      if (seriesIdOfPrior === null) continue;
      const mods = (this.db.prepare('SELECT DISTINCT modality FROM series WHERE study_ref = ? AND modality IS NOT NULL ORDER BY modality').all(r.id) as { modality: string }[]).map((m) => m.modality);
      priors.push({ studyId: r.id, date: r.date, description: r.description, modalities: mods, seriesId: seriesIdOfPrior });
    }
    if (priors.length > 0) return { current, priors, message: null };
    const who = `patient ${study.patientId}${issuer ? ` (issuer ${issuer})` : ''}`;
    return none(`No earlier ${modality} study of ${who} in the local library. Import or retrieve the prior study first.`);
  }

  private async issuerOfStudy(studyId: number): Promise<string> {
    const r = this.db
      .prepare(
        `SELECT i.file_path AS path FROM instances i JOIN series se ON se.id = i.series_ref
          WHERE se.study_ref = ? AND i.copy_of IS NULL ORDER BY i.has_pixels DESC, i.id LIMIT 1`,
      )
      .get(studyId) as { path: string } | undefined;
    if (!r) return '';
    return (await this.header(r.path)).issuer;
  }

  /** The prior's series to compare with: same modality; same body part, series number and description count, then more images. */
  private comparableSeries(studyId: number, open: SeriesRow): number | null {
    const candidates = this.db
      .prepare(
        `SELECT se.id, se.modality, se.body_part AS bodyPart, se.number, se.description,
                (SELECT COUNT(*) FROM instances i WHERE i.series_ref = se.id AND i.has_pixels = 1 AND i.copy_of IS NULL) AS images
           FROM series se WHERE se.study_ref = ? AND UPPER(TRIM(se.modality)) = UPPER(?)`,
      )
      .all(studyId, (open.modality ?? '').trim()) as (SeriesRow & { images: number })[];
    const same = (a: string | number | null, b: string | number | null) => a !== null && b !== null && String(a).trim().toUpperCase() === String(b).trim().toUpperCase();
    const score = (s: SeriesRow & { images: number }) => (same(s.bodyPart, open.bodyPart) ? 4 : 0) + (same(s.description, open.description) ? 2 : 0) + (same(s.number, open.number) ? 1 : 0);
    const best = candidates.filter((c) => c.images > 0).sort((a, b) => score(b) - score(a) || b.images - a.images || a.id - b.id)[0];
    return best?.id ?? null;
  }
}
