import type Database from 'better-sqlite3';
import { m001App } from './001-app';
import { m002Library } from './002-library';
import { m003Fingerprints } from './003-fingerprints';
import { m004Measurements } from './004-measurements';
import { m005ChainSync } from './005-chain-sync';
import { m006IdentitiesOutbox } from './006-identities-outbox';
import { m007Audit } from './007-audit';
import { m008LedgerSettings } from './008-ledger-settings';
import { m011Ai } from './011-ai';
import { m009Pacs } from './009-pacs';
import { m010Split } from './010-split';
import { m012PacsReceive } from './012-pacs-receive';
import { m013InstanceCopies } from './013-instance-copies';
import { m014KeyImages } from './014-key-images';
import { m017HangingProtocols } from './017-hanging-protocols';
import { m021SplitMetadataInIndex } from './021-split-metadata-in-index';
import { m022MerkleProofs } from './022-merkle-proofs';

/**
 * Versioned schema migrations, applied in order. Never edit a migration that has shipped:
 * add a new one. Numbers are reserved per domain so parallel work does not collide:
 * 1 app, 2 library index, 3 fingerprints, 4 measurements, 5 chain sync, 6 outbox/identities,
 * 7 audit, 8 ledger settings, 9 PACS, 10 split storage, 11 AI findings, 12 PACS receive (SCP settings, inbox),
 * 13 instance sources and PACS copies,
 * 14 key images, 17 hanging protocols, 21 split metadata parts in the index, 22 Merkle proofs stored once.
 */
export interface Migration {
  version: number;
  name: string;
  up: string | ((db: Database.Database) => void);
}

export const migrations: readonly Migration[] = [m001App, m002Library, m003Fingerprints, m004Measurements, m005ChainSync, m006IdentitiesOutbox, m007Audit, m008LedgerSettings, m009Pacs, m010Split, m011Ai, m012PacsReceive, m013InstanceCopies, m014KeyImages, m017HangingProtocols, m021SplitMetadataInIndex, m022MerkleProofs];
