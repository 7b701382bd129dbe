/**
 * The one API contract between the renderer and the main process. Each domain keeps its
 * channels in its own file; this table is their union. A channel is a request schema and a
 * response schema; the main process validates the request on every call.
 */
import type { z } from 'zod';
import { appChannels } from './app';
import { ledgerChannels } from './ledger';
import { libraryChannels } from './library';
import { settingsChannels } from './settings';
import { fingerprintChannels } from './fingerprint';
import { identityChannels } from './identity';
import { trustChannels } from './trust';
import { exportChannels } from './export';
import { shareChannels } from './share';
import { auditChannels } from './audit';
import { pacsChannels } from './pacs';
import { storageScpChannels } from './storage-scp';
import { secondaryChannels } from './secondary';
import { inboxChannels } from './inbox';
import { aiChannels } from './ai';
import { splitChannels } from './split';
import { keyImageChannels } from './keyimages';
import { measurementsSrChannels } from './measurements-sr';
import { viewingChannels } from './viewing';
import type { AppEvent } from './events';
import type { Result } from '../errors';

export const channels = {
  ...appChannels,
  ...ledgerChannels,
  ...libraryChannels,
  ...settingsChannels,
  ...fingerprintChannels,
  ...identityChannels,
  ...trustChannels,
  ...exportChannels,
  ...shareChannels,
  ...auditChannels,
  ...pacsChannels,
  ...storageScpChannels,
  ...secondaryChannels,
  ...inboxChannels,
  ...aiChannels,
  ...splitChannels,
  ...keyImageChannels,
  ...measurementsSrChannels,
  ...viewingChannels,
} as const;

export type Channels = typeof channels;
export type Channel = keyof Channels;
export type RequestOf<C extends Channel> = z.input<Channels[C]['request']>;
export type ParsedRequestOf<C extends Channel> = z.output<Channels[C]['request']>;
export type ResponseOf<C extends Channel> = z.output<Channels[C]['response']>;

export function isChannel(name: unknown): name is Channel {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(channels, name);
}

/** What the preload exposes as `window.medimg` (and what the e2e rig injects in its place). */
export interface MedImgBridge {
  invoke<C extends Channel>(channel: C, request: RequestOf<C>): Promise<Result<ResponseOf<C>>>;
  /** Subscribe to pushed events; returns an unsubscribe function. */
  on(listener: (event: AppEvent) => void): () => void;
  /**
   * The file-system path of a File dropped onto the window (Electron's webUtils.getPathForFile).
   * Absent where the page cannot know paths (plain browsers).
   */
  pathForFile?(file: File): string;
}

export * from './app';
export * from './ledger';
export * from './events';
export * from './library';
export * from './settings';
export * from './fingerprint';
export * from './identity';
export * from './trust';
export * from './export';
export * from './share';
export * from './audit';
export * from './pacs';
export * from './storage-scp';
export * from './secondary';
export * from './inbox';
export * from './ai';
export * from './split';
export * from './primitives';
export * from './keyimages';
export * from './measurements-sr';
export * from './viewing';
