/**
 * The Inbox (docs/pacs.md § Inbox): share packages that reached this workstation, received in the
 * app as `medimgshr receive` does (decrypt → verify against the chain → record the access →
 * import). Where packages are found:
 *
 *   <app data>/inbox/          dropped there (a shared folder, a USB stick, "Add a package…")
 *   <app data>/blobs/          packages in this workstation's blob store addressed to an identity
 *                              that is on this workstation (same-workstation demo, a relay)
 *
 * Listing reads only each package's clear header (sender, recipient, created, instance count):
 * nothing is decrypted until "Receive". One row per package address (SHA-256 of the file) in
 * inbox_packages (migration 012) remembers what receiving it gave and whether it was sent on.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { copyFile, open, rename } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { getAddress } from 'ethers';
import type { ReceiveResult } from '../../shared/api/share';
import { AppError, ErrorCode } from '../../shared/errors';
import type { AppContext } from '../context';
import type { IdentityService } from '../identity';
import { LedgerSettings } from '../ledger/settings';
import type { Task } from '../tasks';
import { PACKAGE_FORMAT, type PackageHeader } from './package';
import type { ShareService } from './service';

const MAGIC = Buffer.from('MISHARE1', 'latin1');
const END = Buffer.from('MISHEND1', 'latin1');

export interface InboxParty {
  address: string;
  label: string | null;
}

export interface InboxItem {
  address: string;
  path: string;
  source: 'inbox-folder' | 'blob-store';
  size: number;
  sender: InboxParty;
  recipient: InboxParty & { here: boolean };
  created: string;
  studyRoot: string;
  instances: number;
  /** A share by metadata: the pixel store its images are fetched from (null: whole files). */
  pixelStore: string | null;
  state: 'new' | 'received' | 'failed';
  result: ReceiveResult | null;
  error: { message: string; hint: string | null } | null;
  sentOn: { connection: string; sent: number; failed: number; at: string; message: string } | null;
}

/** Reads only a package's clear header (the tail of the file); null when the file is not a share package. */
export async function readPackageHeader(path: string): Promise<PackageHeader | null> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    if (size < MAGIC.length + 12) return null;
    const head = Buffer.alloc(MAGIC.length);
    await fh.read(head, 0, MAGIC.length, 0);
    if (!head.equals(MAGIC)) return null;
    const tail = Buffer.alloc(12);
    await fh.read(tail, 0, 12, size - 12);
    if (!tail.subarray(4).equals(END)) return null;
    const len = tail.readUInt32BE(0);
    if (len <= 0 || len > size - 12 - MAGIC.length || len > 64 * 1024 * 1024) return null;
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - 12 - len);
    const h = JSON.parse(buf.toString('utf8')) as PackageHeader;
    return h && h.format === PACKAGE_FORMAT && h.manifest ? h : null;
  } catch {
    return null;
  } finally {
    await fh.close();
  }
}

const sha256File = (path: string) =>
  new Promise<string>((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });

interface Row {
  address: string;
  path: string;
  state: InboxItem['state'];
  result_json: string | null;
  sent_on_json: string | null;
}

export class Inbox {
  readonly folder: string;

  constructor(private readonly deps: { ctx: AppContext; share: ShareService; identity: IdentityService }) {
    this.folder = join(deps.ctx.home.root, 'inbox');
  }

  private labels(): Map<string, string> {
    const m = new Map<string, string>();
    for (const i of this.deps.identity.list()) m.set(i.address.toLowerCase(), i.displayName);
    for (const r of new LedgerSettings(this.deps.ctx.db).withPrefix('keycard:')) {
      try {
        const c = JSON.parse(r.value) as { address: string; label: string | null };
        if (c.label && !m.has(c.address.toLowerCase())) m.set(c.address.toLowerCase(), c.label);
      } catch {
        /* a damaged card names nobody */
      }
    }
    return m;
  }

  private candidates(): { path: string; source: InboxItem['source'] }[] {
    const out: { path: string; source: InboxItem['source'] }[] = [];
    if (existsSync(this.folder)) {
      for (const f of readdirSync(this.folder)) {
        const p = join(this.folder, f);
        if (!f.startsWith('.') && !f.endsWith('.part') && statSync(p).isFile()) out.push({ path: p, source: 'inbox-folder' });
      }
    }
    const blobs = this.deps.ctx.home.blobs;
    if (existsSync(blobs)) {
      for (const d of readdirSync(blobs)) {
        if (!/^[0-9a-f]{2}$/.test(d)) continue;
        for (const f of readdirSync(join(blobs, d))) if (/^[0-9a-f]{64}$/.test(f)) out.push({ path: join(blobs, d, f), source: 'blob-store' });
      }
    }
    return out;
  }

  private row(address: string): Row | undefined {
    return this.deps.ctx.db.prepare('SELECT address, path, state, result_json, sent_on_json FROM inbox_packages WHERE address = ?').get(address) as Row | undefined;
  }

  /** Every package here, newest first (headers only; nothing decrypted). */
  async list(): Promise<InboxItem[]> {
    const db = this.deps.ctx.db;
    const labels = this.labels();
    const mine = new Set(this.deps.identity.list().map((i) => i.address.toLowerCase()));
    const known = new Map((db.prepare('SELECT address, path FROM inbox_packages').all() as { address: string; path: string }[]).map((r) => [r.path, r.address]));
    const items: InboxItem[] = [];
    for (const c of this.candidates()) {
      const h = await readPackageHeader(c.path);
      if (!h) continue;
      const recipient = String(h.manifest.recipient).toLowerCase();
      // The blob store also holds the packages this workstation SENT: only those for an identity here count.
      if (c.source === 'blob-store' && !mine.has(recipient)) continue;
      let address = known.get(c.path);
      if (!address) {
        address = c.source === 'blob-store' ? basename(c.path) : await sha256File(c.path);
        const t = new Date().toISOString();
        db.prepare("INSERT INTO inbox_packages (address, path, state, added_at, updated_at) VALUES (?, ?, 'new', ?, ?) ON CONFLICT (address) DO UPDATE SET path = excluded.path").run(address, c.path, t, t);
      }
      const r = this.row(address)!;
      const parsed = r.result_json ? (JSON.parse(r.result_json) as { result?: ReceiveResult; error?: { message: string; hint: string | null } }) : null;
      const party = (a: string): InboxParty => {
        let addr = a;
        try {
          addr = getAddress(a);
        } catch {
          /* shown as written */
        }
        return { address: addr, label: labels.get(a.toLowerCase()) ?? null };
      };
      items.push({
        address,
        path: c.path,
        source: c.source,
        size: statSync(c.path).size,
        sender: party(String(h.manifest.sender)),
        recipient: { ...party(recipient), here: mine.has(recipient) },
        created: String(h.manifest.created),
        studyRoot: String(h.manifest.studyRoot),
        instances: h.manifest.instances.length,
        pixelStore: h.manifest.split && typeof (h.manifest.split as { store?: unknown }).store === 'string' ? (h.manifest.split as { store: string }).store : null,
        state: r.state,
        result: parsed?.result ?? null,
        error: parsed?.error ?? null,
        sentOn: r.sent_on_json ? (JSON.parse(r.sent_on_json) as InboxItem['sentOn']) : null,
      });
    }
    // Two copies of one package (inbox folder and blob store): show it once.
    const seen = new Set<string>();
    return items.filter((i) => (seen.has(i.address) ? false : (seen.add(i.address), true))).sort((a, b) => b.created.localeCompare(a.created));
  }

  /** Copies packages into the inbox folder (the file picker's "Add a package…"); refuses what is not a share package. */
  async add(paths: string[]): Promise<{ added: string[]; rejected: { path: string; message: string }[] }> {
    mkdirSync(this.folder, { recursive: true, mode: 0o700 });
    const added: string[] = [];
    const rejected: { path: string; message: string }[] = [];
    for (const p of paths) {
      const h = existsSync(p) && statSync(p).isFile() ? await readPackageHeader(p) : null;
      if (!h) {
        rejected.push({ path: p, message: 'Not a MedImgShr share package (or cut short).' });
        continue;
      }
      const address = await sha256File(p);
      const dest = join(this.folder, `${address}.medimgshr`);
      if (!existsSync(dest)) {
        await copyFile(p, `${dest}.part`);
        await rename(`${dest}.part`, dest);
      }
      added.push(address);
    }
    return { added, rejected };
  }

  async item(address: string): Promise<InboxItem> {
    const it = (await this.list()).find((i) => i.address === address);
    if (!it) throw new AppError(ErrorCode.NotFound, 'That package is no longer in the inbox.', 'Refresh the inbox.');
    return it;
  }

  /** Receives a package as the unlocked recipient: decrypt, verify against the chain, record the access, import. */
  async receive(address: string, task?: Task): Promise<InboxItem> {
    const it = await this.item(address);
    const me = this.deps.identity.current();
    if (!me || me.address.toLowerCase() !== it.recipient.address.toLowerCase()) {
      throw new AppError(
        ErrorCode.Locked,
        `This package is encrypted for ${it.recipient.label ?? it.recipient.address}; ${me ? `${me.displayName} is signed in` : 'nobody is signed in'}.`,
        it.recipient.here ? `Sign in as ${it.recipient.label ?? it.recipient.address}, then receive it.` : 'Only the recipient institution can open it: import its identity on this workstation or receive it where it is.',
      );
    }
    const t = new Date().toISOString();
    try {
      const result = await this.deps.share.receive(it.path, task);
      this.deps.ctx.db.prepare("UPDATE inbox_packages SET state = 'received', result_json = ?, updated_at = ? WHERE address = ?").run(JSON.stringify({ result }), t, address);
    } catch (err) {
      const e = err instanceof AppError ? { message: err.message, hint: err.hint ?? null } : { message: err instanceof Error ? err.message : String(err), hint: null };
      this.deps.ctx.db.prepare("UPDATE inbox_packages SET state = 'failed', result_json = ?, updated_at = ? WHERE address = ?").run(JSON.stringify({ error: e }), t, address);
      throw err;
    }
    return this.item(address);
  }

  /** The received files of a package (to send them on to a PACS). */
  receivedFiles(it: InboxItem): string[] {
    const folder = it.result?.folder;
    if (!folder || !existsSync(folder)) throw new AppError(ErrorCode.NotFound, 'Nothing of this package was kept: only a received, verified package is sent on.', 'Receive it first.');
    const files: string[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d, { withFileTypes: true })) {
        if (f.isDirectory()) walk(join(d, f.name));
        else if (f.isFile()) files.push(join(d, f.name));
      }
    };
    walk(folder);
    return files.sort();
  }

  recordSentOn(address: string, s: NonNullable<InboxItem['sentOn']>): void {
    this.deps.ctx.db.prepare('UPDATE inbox_packages SET sent_on_json = ?, updated_at = ? WHERE address = ?').run(JSON.stringify(s), new Date().toISOString(), address);
  }
}
