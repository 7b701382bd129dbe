/** The patient and study attributes of a study, as one of its images says them: what a document written into the study (KOS, SR) copies. */
import { readFile } from 'node:fs/promises';
import { AppError, ErrorCode } from '../../shared/errors';
import type { Db } from '../store/database';
import { readNaturalized } from './kos';

/** Reads the header of the study's first image (library originals only; the SOP Classes given are not images and are skipped). */
export async function studyHeader(db: Db, studyId: number, notImages: readonly string[]): Promise<Record<string, unknown>> {
  const r = db
    .prepare(
      `SELECT i.file_path AS path FROM instances i JOIN series se ON se.id = i.series_ref
        WHERE se.study_ref = ? AND i.copy_of IS NULL AND (i.sop_class IS NULL OR i.sop_class NOT IN (${notImages.map(() => '?').join(',') || "''"}))
        ORDER BY i.has_pixels DESC, i.id LIMIT 1`,
    )
    .get(studyId, ...notImages) as { path: string } | undefined;
  if (!r) throw new AppError(ErrorCode.NotFound, 'This study has no images in the library to take the patient and study details from.', 'Import the study images first.');
  try {
    return readNaturalized(await readFile(r.path), { header: true });
  } catch (err) {
    throw new AppError(
      ErrorCode.Unreadable,
      `The patient and study details could not be read from ${r.path} (${err instanceof Error ? err.message : String(err)}).`,
      'Check that the study files are still where they were imported from, or import the study again.',
    );
  }
}
