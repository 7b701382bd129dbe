/**
 * The one place that finds the study of a series: the series' images and summary, then its study
 * (two index reads). The viewer's badges, the anchor control and the trust drawer all start from the
 * series shown in a viewport.
 */
import type { InstanceSummary, SeriesSummary, StudySummary } from '../../shared/api';
import { call } from '../bridge';
import { instanceList } from './instanceList';

export interface OpenStudy {
  study: StudySummary;
  series: SeriesSummary;
  instances: InstanceSummary[];
}

/** The study, series and images of a series. */
export async function openStudyOfSeries(seriesId: number): Promise<OpenStudy> {
  const { series, instances } = await instanceList(seriesId);
  const { study } = await call('library.series', { studyId: series.studyId });
  return { study, series, instances };
}
