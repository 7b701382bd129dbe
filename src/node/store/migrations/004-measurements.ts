import type { Migration } from './index';

// Slot reserved for the measurements work; fill in the schema before this version ships.
export const m004Measurements: Migration = {
  version: 4,
  name: 'measurements',
  up: '',
};
