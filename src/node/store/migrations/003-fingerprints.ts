import type { Migration } from './index';

// Slot reserved for the fingerprints work; fill in the schema before this version ships.
export const m003Fingerprints: Migration = {
  version: 3,
  name: 'fingerprints',
  up: '',
};
