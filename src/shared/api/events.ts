import { z } from 'zod';
import { DemoEvent, LedgerAnchorEvent, LedgerIdentityEvent, LedgerStatusEvent, LedgerSyncEvent } from './ledger';
import { LibraryChangedEvent } from './library';
import { AuditAppendedEvent } from './audit';
import { ShareEvent } from './share';
import { PacsRetrieveEvent, PacsSendEvent } from './pacs';

/** Progress of a long task (import, fingerprinting, anchoring, export). */
export const ProgressEvent = z.object({
  type: z.literal('progress'),
  taskId: z.string(),
  kind: z.string(),
  done: z.number().int().nonnegative(),
  total: z.number().int().nonnegative().nullable(),
  failed: z.number().int().nonnegative().default(0),
  /** Items per second over the task so far. */
  rate: z.number().nonnegative().nullable(),
  label: z.string().nullable(),
  finished: z.boolean(),
});
export type ProgressEvent = z.infer<typeof ProgressEvent>;

/** Everything the main process pushes to the renderer. */
export const AppEvent = z.discriminatedUnion('type', [LedgerStatusEvent, ProgressEvent, LibraryChangedEvent, LedgerAnchorEvent, LedgerSyncEvent, LedgerIdentityEvent, AuditAppendedEvent, ShareEvent, PacsRetrieveEvent, PacsSendEvent, DemoEvent]);
export type AppEvent = z.infer<typeof AppEvent>;
