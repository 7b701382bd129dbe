import { z } from 'zod';

/** What the status bar and the About box show. */
export const AppInfo = z.object({
  productName: z.string(),
  version: z.string(),
  appHome: z.string(),
  schemaVersion: z.number().int(),
  runtime: z.object({ node: z.string(), electron: z.string().nullable(), chrome: z.string().nullable() }),
});
export type AppInfo = z.infer<typeof AppInfo>;

export const appChannels = {
  'app.info': { request: z.object({}).strict(), response: AppInfo },
  /** Ask the OS for files or a folder to import (a native dialog in the desktop app). Empty = cancelled. */
  'app.pickPaths': {
    request: z.object({ mode: z.enum(['files', 'folder']) }).strict(),
    response: z.object({ paths: z.array(z.string()) }),
  },
  /** Cancel a running task (import, fingerprinting, …) by the id from its progress events. */
  'task.cancel': { request: z.object({ taskId: z.string().min(1).max(100) }).strict(), response: z.object({ cancelled: z.boolean() }) },
} as const;
