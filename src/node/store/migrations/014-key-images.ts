import type { Migration } from './index';

/**
 * Key images, per study (src/node/keyimages). Keyed by UIDs, not index row ids, so marks survive removing a
 * study from the index and importing it again. key_object_documents lists the KOS documents of a study this
 * workstation wrote (saved) or took key images from (read): a received KOS's images are marked once, when
 * the document is first seen, so a reader's later unmark is not undone by the document.
 */
export const m014KeyImages: Migration = {
  version: 14,
  name: 'key images, key object selection documents',
  up: `
    CREATE TABLE key_images (
      study_uid TEXT NOT NULL,
      sop_uid TEXT NOT NULL,
      series_uid TEXT NOT NULL,
      sop_class TEXT NOT NULL,
      source TEXT NOT NULL,              -- marked | document
      marked_by TEXT NOT NULL,
      marked_at TEXT NOT NULL,
      PRIMARY KEY (study_uid, sop_uid)
    );
    CREATE TABLE key_object_documents (
      sop_uid TEXT PRIMARY KEY,          -- the KOS's SOP Instance UID
      study_uid TEXT NOT NULL,
      title_code TEXT NOT NULL,
      title TEXT NOT NULL,
      description TEXT,
      origin TEXT NOT NULL,              -- saved | read
      referenced_json TEXT NOT NULL,     -- the referenced SOP Instance UIDs, sorted
      file_path TEXT,
      created_at TEXT NOT NULL
    );
    CREATE INDEX key_object_documents_study ON key_object_documents(study_uid);
  `,
};
