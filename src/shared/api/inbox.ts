import { z } from 'zod';
import { Address, Hex64, Path } from './primitives';
import { ReceiveResult } from './share';

/** The Inbox of received share packages (docs/pacs.md § Inbox). */

const Party = z.object({ address: z.string(), label: z.string().nullable() });

export const InboxItem = z.object({
  /** SHA-256 of the package file (its content address). */
  address: Hex64,
  path: z.string(),
  source: z.enum(['inbox-folder', 'blob-store']),
  size: z.number().int(),
  sender: Party,
  /** `here`: the recipient institution's identity is on this workstation. */
  recipient: Party.extend({ here: z.boolean() }),
  created: z.string(),
  studyRoot: z.string(),
  instances: z.number().int(),
  /** A share by metadata: the pixel store the images are fetched from on receive (null: whole files). */
  pixelStore: z.string().nullable().optional(),
  state: z.enum(['new', 'received', 'failed']),
  result: ReceiveResult.nullable(),
  error: z.object({ message: z.string(), hint: z.string().nullable() }).nullable(),
  sentOn: z.object({ connection: z.string(), sent: z.number().int(), failed: z.number().int(), at: z.string(), message: z.string() }).nullable(),
});
export type InboxItem = z.infer<typeof InboxItem>;

export const InboxList = z.object({
  /** The folder packages are dropped into. */
  folder: z.string(),
  items: z.array(InboxItem),
  /** The signed-in identity (packages for it can be received now). */
  signedIn: z.object({ address: Address, displayName: z.string() }).nullable(),
  /** PACS connections a received study can be sent on to. */
  connections: z.array(z.string()),
});
export type InboxList = z.infer<typeof InboxList>;

export const inboxChannels = {
  /** Packages in the inbox folder and those in the blob store for an identity here (clear headers only). */
  'inbox.list': { request: z.object({}).strict(), response: InboxList },
  /** Copies share packages into the inbox folder; without paths, asks with the file dialog. */
  'inbox.add': {
    request: z.object({ paths: z.array(Path).max(100).optional() }).strict(),
    response: z.object({ added: z.array(z.string()), rejected: z.array(z.object({ path: z.string(), message: z.string() })) }),
  },
  /** Receives one as the signed-in recipient: decrypt, verify against the chain, record the access, import. */
  'inbox.receive': { request: z.object({ address: Hex64 }).strict(), response: InboxItem },
  /** Sends a received package's images on to a PACS connection (STOW-RS or C-STORE). */
  'inbox.sendOn': { request: z.object({ address: Hex64, connection: z.string().min(1).max(200) }).strict(), response: InboxItem },
} as const;
