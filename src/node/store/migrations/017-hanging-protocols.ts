import type { Migration } from './index';

/**
 * Hanging protocols (src/node/viewing): the reader's list, in priority order, kept as one JSON
 * document so saving the list is one write (an empty list is a choice too: always the first series
 * in 1×1). No row: the built-in defaults of src/core/hanging apply.
 */
export const m017HangingProtocols: Migration = {
  version: 17,
  name: 'hanging protocols',
  up: `
    CREATE TABLE hanging_protocols (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      protocols_json TEXT NOT NULL,     -- HangingProtocol[] (src/core/hanging/protocols.ts), priority order
      saved_by TEXT NOT NULL,
      saved_at TEXT NOT NULL
    );
  `,
};
