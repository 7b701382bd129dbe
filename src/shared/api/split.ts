import { z } from 'zod';

/** Split storage (docs/split-storage.md): Settings → Storage and the study browser's SPLIT mark. */

export const KnownPixelStoreView = z.object({ uri: z.string(), at: z.string(), addedAt: z.string() });

export const SplitSettingsView = z.object({
  /** Split every imported image into a metadata part and an encrypted pixel blob (off by default). */
  onImport: z.boolean(),
  /** The chosen store as typed (a folder or a WebDAV URL); null = the folder in the app-data folder. */
  store: z.string().nullable(),
  /** The store's location URI (what a share by metadata names). */
  location: z.string(),
  /** Other institutions' pixel stores this workstation may read (shares by metadata). */
  knownStores: z.array(KnownPixelStoreView),
  /** Split instances on this workstation. */
  instances: z.number().int(),
});
export type SplitSettingsView = z.infer<typeof SplitSettingsView>;

export const StoreTestResult = z.object({ ok: z.boolean(), location: z.string(), message: z.string(), hint: z.string().nullable() });
export type StoreTestResult = z.infer<typeof StoreTestResult>;

const StoreSpec = z.string().trim().max(2048);

export const splitChannels = {
  'split.settings': { request: z.object({}).strict(), response: SplitSettingsView },
  'split.updateSettings': {
    request: z.object({ onImport: z.boolean().optional(), store: StoreSpec.nullable().optional() }).strict(),
    response: SplitSettingsView,
  },
  /** Writes, reads back and deletes a probe blob in the store (the typed one, or the saved one). */
  'split.testStore': { request: z.object({ store: StoreSpec.nullable().optional() }).strict(), response: StoreTestResult },
  'split.addStore': { request: z.object({ uri: StoreSpec.min(1), at: StoreSpec.optional() }).strict(), response: SplitSettingsView },
  'split.removeStore': { request: z.object({ uri: StoreSpec.min(1) }).strict(), response: SplitSettingsView },
  /** Studies with split instances (the browser marks them SPLIT). */
  'split.studies': {
    request: z.object({}).strict(),
    response: z.object({ studies: z.array(z.object({ studyInstanceUid: z.string(), instances: z.number().int() })) }),
  },
} as const;
