/**
 * What a Key Object Selection document says (src/node/keyimages/kos.ts): the modules of the KOS IOD, the title from
 * CID 7010, one IMAGE item per key image, the evidence grouped per series, the study's patient and study attributes
 * copied as they are, and reading it back (dcmjs encode → decode) gives the same images.
 */
import { describe, expect, it } from 'vitest';
import { encodePart10, kosContent, kosDataset, readNaturalized, type KosReference } from '../../../src/node/keyimages/kos';
import { KOS_SOP_CLASS_UID, KOS_TITLES } from '../../../src/shared/api/keyimages';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const MR = '1.2.840.10008.5.1.4.1.1.4';
const refs: KosReference[] = [
  { seriesInstanceUid: '1.2.826.0.1.9.1', sopClassUid: CT, sopInstanceUid: '1.2.826.0.1.9.1.5' },
  { seriesInstanceUid: '1.2.826.0.1.9.2', sopClassUid: MR, sopInstanceUid: '1.2.826.0.1.9.2.1' },
  { seriesInstanceUid: '1.2.826.0.1.9.1', sopClassUid: CT, sopInstanceUid: '1.2.826.0.1.9.1.9' },
];
const study = {
  StudyInstanceUID: '1.2.826.0.1.9',
  PatientName: 'DOE^JANE',
  PatientID: 'P-123',
  PatientBirthDate: '19600101',
  PatientSex: 'F',
  StudyDate: '20260101',
  StudyTime: '101010',
  AccessionNumber: 'ACC1',
  StudyID: '7',
  ReferringPhysicianName: 'WHO^DR',
  StudyDescription: 'CT chest',
  // not Patient / Study module attributes: must not be copied into the document
  Modality: 'CT',
  SeriesInstanceUID: '1.2.826.0.1.9.1',
  PixelSpacing: ['0.5', '0.5'],
};
const at = new Date('2026-11-29T16:20:30Z');

describe('Key Object Selection document content', () => {
  const ds = kosDataset({ study, references: refs, title: '113002', description: 'For Dr Who', seriesInstanceUid: '2.25.1', sopInstanceUid: '2.25.2', seriesNumber: 901, at });

  it('is a KOS in a new KO series of the study, with the patient and study attributes of its images', () => {
    expect(ds).toMatchObject({
      SOPClassUID: KOS_SOP_CLASS_UID,
      SOPInstanceUID: '2.25.2',
      Modality: 'KO',
      SeriesInstanceUID: '2.25.1',
      SeriesNumber: '901',
      InstanceNumber: '1',
      ContentDate: '20261129',
      ContentTime: '162030',
      StudyInstanceUID: '1.2.826.0.1.9',
      PatientName: 'DOE^JANE',
      PatientID: 'P-123',
      PatientBirthDate: '19600101',
      PatientSex: 'F',
      AccessionNumber: 'ACC1',
      StudyID: '7',
      StudyDescription: 'CT chest',
      ReferencedPerformedProcedureStepSequence: [],
      ValueType: 'CONTAINER',
      ContinuityOfContent: 'SEPARATE',
      ContentTemplateSequence: [{ MappingResource: 'DCMR', TemplateIdentifier: '2010' }],
    });
    expect(ds.PixelSpacing).toBeUndefined();
    expect(ds.SeriesInstanceUID).not.toBe(study.SeriesInstanceUID);
  });

  it('is titled with the CID 7010 code picked (Of Interest when none)', () => {
    expect(ds.ConceptNameCodeSequence).toEqual([{ CodeValue: '113002', CodingSchemeDesignator: 'DCM', CodeMeaning: 'For Referring Provider' }]);
    expect(kosDataset({ study, references: refs }).ConceptNameCodeSequence).toEqual([{ CodeValue: '113000', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Of Interest' }]);
    expect(KOS_TITLES.map((t) => t.code)).not.toContain('113001'); // Rejected for Quality Reasons: not a reader's key image title
  });

  it('has one IMAGE item per key image (after the description) and the evidence per series', () => {
    expect(ds.ContentSequence).toEqual([
      { RelationshipType: 'CONTAINS', ValueType: 'TEXT', ConceptNameCodeSequence: [{ CodeValue: '113012', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Key Object Description' }], TextValue: 'For Dr Who' },
      ...refs.map((r) => ({ RelationshipType: 'CONTAINS', ValueType: 'IMAGE', ReferencedSOPSequence: [{ ReferencedSOPClassUID: r.sopClassUid, ReferencedSOPInstanceUID: r.sopInstanceUid }] })),
    ]);
    expect(ds.CurrentRequestedProcedureEvidenceSequence).toEqual([
      {
        StudyInstanceUID: '1.2.826.0.1.9',
        ReferencedSeriesSequence: [
          { SeriesInstanceUID: '1.2.826.0.1.9.1', ReferencedSOPSequence: [{ ReferencedSOPClassUID: CT, ReferencedSOPInstanceUID: '1.2.826.0.1.9.1.5' }, { ReferencedSOPClassUID: CT, ReferencedSOPInstanceUID: '1.2.826.0.1.9.1.9' }] },
          { SeriesInstanceUID: '1.2.826.0.1.9.2', ReferencedSOPSequence: [{ ReferencedSOPClassUID: MR, ReferencedSOPInstanceUID: '1.2.826.0.1.9.2.1' }] },
        ],
      },
    ]);
  });

  it('keeps Type 2 attributes present (empty) and drops Patient Identity Removed without its Type 1C method', () => {
    const bare = kosDataset({ study: { StudyInstanceUID: '1.2.3', PatientIdentityRemoved: 'YES' }, references: refs.slice(0, 1) });
    for (const k of ['PatientName', 'PatientID', 'PatientBirthDate', 'PatientSex', 'StudyDate', 'StudyTime', 'ReferringPhysicianName', 'StudyID', 'AccessionNumber']) expect(bare[k]).toBe('');
    expect(bare.PatientIdentityRemoved).toBeUndefined();
    const deid = kosDataset({ study: { StudyInstanceUID: '1.2.3', PatientIdentityRemoved: 'YES', DeidentificationMethod: 'Basic' }, references: refs.slice(0, 1) });
    expect(deid).toMatchObject({ PatientIdentityRemoved: 'YES', DeidentificationMethod: 'Basic' });
  });

  it('refuses a document without images or without a study', () => {
    expect(() => kosDataset({ study, references: [] })).toThrow('a Key Object Selection needs at least one image');
    expect(() => kosDataset({ study: { PatientID: 'x' }, references: refs })).toThrow('the study has no Study Instance UID');
  });

  it('encodes with dcmjs as Part 10 and reads back to the same images, title and description', () => {
    const bytes = encodePart10(ds);
    expect(bytes.subarray(128, 132).toString('latin1')).toBe('DICM');
    const back = kosContent(readNaturalized(bytes));
    expect(back).toEqual({
      sopInstanceUid: '2.25.2',
      studyInstanceUid: '1.2.826.0.1.9',
      seriesInstanceUid: '2.25.1',
      title: { code: '113002', meaning: 'For Referring Provider' },
      description: 'For Dr Who',
      references: refs,
    });
  });

  it('says when a file is not a KOS', () => {
    expect(() => kosContent({ SOPClassUID: CT })).toThrow(`not a Key Object Selection Document (SOP Class ${CT})`);
  });
});
