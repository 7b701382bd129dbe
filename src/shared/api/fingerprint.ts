import { type z } from 'zod';

// Channels of the fingerprint domain (request/response schemas). Owned by the fingerprint work; registered in ./index.ts.
export const fingerprintChannels = {} as const satisfies Record<string, { request: z.ZodType; response: z.ZodType }>;
