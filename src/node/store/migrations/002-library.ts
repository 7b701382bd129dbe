import type { Migration } from './index';

// Slot reserved for the library index work; fill in the schema before this version ships.
export const m002Library: Migration = {
  version: 2,
  name: 'library index',
  up: '',
};
