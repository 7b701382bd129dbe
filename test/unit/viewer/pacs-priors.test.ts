/** Priors on a PACS (src/renderer/viewer/linking/pacsPriors.ts): which studies count as earlier, and which series to fetch. */
import { describe, expect, it } from 'vitest';
import type { PacsSeries, PacsStudy, PriorSearch } from '../../../src/shared/api';
import { comparableSeries, earlierStudies, priorQueryDateTo } from '../../../src/renderer/viewer/linking/pacsPriors';

const current: PriorSearch['current'] = {
  studyId: 1,
  studyInstanceUid: '1.2.3',
  date: '20261115',
  time: '101500',
  modality: 'CT',
  patientId: 'P-77',
  issuer: '',
  series: { number: 3, description: 'CHEST AXIAL' },
};

const study = (uid: string, date: string | null, o: Partial<PacsStudy> = {}): PacsStudy => ({
  studyInstanceUid: uid,
  patientName: 'DOE^JANE',
  patientId: 'P-77',
  patientBirthDate: null,
  date,
  time: null,
  accession: null,
  description: null,
  modalities: ['CT'],
  seriesCount: 1,
  instanceCount: 10,
  ...o,
});

describe('earlier studies on a PACS', () => {
  it('asks up to the current study’s day, and not at all without a date', () => {
    expect(priorQueryDateTo(current)).toBe('2026-11-15');
    expect(priorQueryDateTo({ ...current, date: null })).toBeNull();
  });

  it('keeps earlier studies of the same patient and modality, most recent first', () => {
    const got = earlierStudies(current, [
      study('a', '2024-09-01'),
      study('b', '2025-03-10'),
      study('1.2.3', '2026-11-15'), // the current study itself
      study('c', '2026-11-20'), // later
      study('d', '2025-06-01', { patientId: 'P-770' }), // another patient the PACS matched loosely
      study('e', '2025-07-01', { modalities: ['MR'] }), // another modality
      study('f', null), // no date: cannot tell
      study('g', '2023-01-01', { modalities: [] }), // the PACS did not list modalities: the query's filter stands
    ]);
    expect(got.map((s) => s.studyInstanceUid)).toEqual(['b', 'a', 'g']);
  });

  it('compares the same day by time: earlier that morning counts, later that day does not', () => {
    const got = earlierStudies(current, [study('am', '2026-11-15', { time: '08:30:00' }), study('pm', '2026-11-15', { time: '16:00:00' })]);
    expect(got.map((s) => s.studyInstanceUid)).toEqual(['am']);
  });
});

describe('the series to retrieve', () => {
  const s = (uid: string, o: Partial<PacsSeries>): PacsSeries => ({ seriesInstanceUid: uid, modality: 'CT', number: null, description: null, instanceCount: 10, ...o });
  it('the same modality first; then description, then number, then more images', () => {
    const list = [s('scout', { description: 'SCOUT', number: 1, instanceCount: 2 }), s('mr', { modality: 'MR', description: 'CHEST AXIAL', number: 3 }), s('lung', { description: 'LUNG', number: 3, instanceCount: 300 }), s('axial', { description: 'Chest Axial', number: 2, instanceCount: 120 })];
    expect(comparableSeries(current, list)?.seriesInstanceUid).toBe('axial');
    expect(comparableSeries(current, list.filter((x) => x.seriesInstanceUid !== 'axial'))?.seriesInstanceUid).toBe('lung');
    expect(comparableSeries(current, [s('mr', { modality: 'MR' })])).toBeNull();
  });
});
