import { type z } from 'zod';

// Channels of the library domain (request/response schemas). Owned by the library work; registered in ./index.ts.
export const libraryChannels = {} as const satisfies Record<string, { request: z.ZodType; response: z.ZodType }>;
