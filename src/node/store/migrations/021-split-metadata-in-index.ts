import type { Migration } from './index';

/**
 * Split storage (src/node/split, docs/split-storage.md §5): the sealed metadata part of a new split
 * is kept in its index row (metadata_sealed, with metadata_path '') and written in the same
 * transaction as the row — no file of its own, so a durable split makes one file durable per
 * instance (its pixel blob) instead of two. Rows written before keep their file (metadata_path set,
 * metadata_sealed NULL) and are read from it as before.
 */
export const m021SplitMetadataInIndex: Migration = {
  version: 21,
  name: 'split metadata parts in the index',
  up: `
    ALTER TABLE split_instances ADD COLUMN metadata_sealed BLOB; -- sealed metadata part (NULL: a file at metadata_path)
  `,
};
