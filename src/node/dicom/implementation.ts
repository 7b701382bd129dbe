/**
 * Who wrote a file or spoke on an association: our Implementation Class UID and Version Name
 * (PS3.7 D.3.3.2, PS3.10 7.1). In a module of its own, with no imports, so the worker threads
 * that write File Meta Information do not bundle the DICOM writer with them.
 */
export const IMPLEMENTATION_CLASS_UID = '2.25.229451600072090404564544894284998027172';
export const IMPLEMENTATION_VERSION_NAME = 'MEDIMGSHR_0_1';
