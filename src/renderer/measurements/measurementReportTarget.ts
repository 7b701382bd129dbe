import type { SeriesView } from '../viewer/types';
import type { MeasurementReportLoadResult } from '../../shared/api';
import { BridgeError, call } from '../bridge';

/** Where opening a Measurement Report leads: the series of its first measured image, and what to tell the reader. */
export interface MeasurementReportTarget {
  seriesId: number;
  notice: string;
}

/**
 * A structured report is not an image: opening its series reads the report, saves its measurements on the images
 * they were drawn on (again, if they were deleted here or the study came from elsewhere) and opens the series of the
 * first of those images, where the viewer draws them. Null for any series that is not SR.
 */
export async function measurementReportTarget(view: SeriesView): Promise<MeasurementReportTarget | null> {
  if (view.modality !== 'SR') return null;
  const first = view.instances[0];
  if (!first) return null;
  const r = await call('measurements.sr.load', { instanceId: Number(first.id) });
  const image = r.images[0];
  if (!image) {
    throw new BridgeError({
      code: 'NOT_FOUND',
      message: `This structured report's ${r.found} measurement(s) are on images that are not in the library.`,
      hint: 'Retrieve or import the rest of the study, then open the report again.',
    });
  }
  return { seriesId: image.seriesId, notice: reportNotice(r) };
}

/** "Measurement Report: 3 measurements on images 4, 9 of this series (2 restored, 1 already shown); 1 not restored: …". */
export function reportNotice(r: MeasurementReportLoadResult): string {
  const first = r.images[0]!;
  const here = r.images.filter((i) => i.seriesId === first.seriesId);
  const numbers = here.map((i) => (i.instanceNumber === null ? null : String(i.instanceNumber))).filter((n): n is string => n !== null);
  const where = numbers.length ? `on image${numbers.length > 1 ? 's' : ''} ${numbers.join(', ')} of this series` : `on ${here.length} image(s) of this series`;
  const others = r.images.length - here.length;
  const parts = [`Measurement Report: ${r.found} measurement(s) ${where}${others ? ` and ${others} image(s) of other series` : ''}`];
  parts.push(`${r.restored} restored, ${r.alreadyPresent} already saved`);
  if (r.notRestored.length) parts.push(`${r.notRestored.length} not restored (${r.notRestored[0]!.reason})`);
  return `${parts.join('; ')}.`;
}
