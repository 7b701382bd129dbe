/**
 * The trust history as CSV (spreadsheet-safe cells) and as a printable PDF report (pdf-lib, standard
 * Helvetica: no font files). Written atomically (temporary name, then rename).
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import type { HistoryEntry, TrustPanel } from '../../shared/api/trust';
import { AppError, ErrorCode } from '../../shared/errors';
import { writeFileAtomic } from '../atomic';

export function csvCell(v: string): string {
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function historyCsv(entries: HistoryEntry[]): string {
  const header = ['time', 'kind', 'title', 'detail', 'institution', 'account', 'delta', 'block', 'tx'];
  const lines = [header.join(',')];
  for (const e of entries) {
    lines.push([e.time ?? '', e.kind, e.title, e.detail, e.institution ?? '', e.account ?? '', e.delta === null ? '' : String(e.delta), String(e.block), e.txHash].map(csvCell).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** pdf-lib's standard fonts encode WinAnsi only: replace what they cannot draw. */
const clean = (s: string) => s.replace(/[→]/g, '->').replace(/[’‘]/g, "'").replace(/[“”]/g, '"').replace(/[…]/g, '...').replace(/[^\x20-\x7e\xa0-\xff]/g, '?');

function wrap(text: string, font: PDFFont, size: number, width: number): string[] {
  const words = clean(text).split(/\s+/);
  const lines: string[] = [];
  let cur = '';
  for (const w of words) {
    const next = cur ? `${cur} ${w}` : w;
    if (font.widthOfTextAtSize(next, size) > width && cur) {
      lines.push(cur);
      cur = w;
    } else cur = next;
  }
  if (cur) lines.push(cur);
  // Hard-break single words longer than the line (addresses, hashes).
  return lines.flatMap((l) => {
    if (font.widthOfTextAtSize(l, size) <= width) return [l];
    const out: string[] = [];
    let s = '';
    for (const ch of l) {
      if (font.widthOfTextAtSize(s + ch, size) > width) {
        out.push(s);
        s = ch;
      } else s += ch;
    }
    if (s) out.push(s);
    return out;
  });
}

export async function historyPdf(panel: TrustPanel, entries: HistoryEntry[]): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle(`MedImgShr trust report — study ${panel.studyInstanceUid}`);
  doc.setProducer('MedImgShr');
  doc.setCreationDate(new Date());
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const W = 595.28, H = 841.89, M = 48;
  let page: PDFPage = doc.addPage([W, H]);
  let y = H - M;
  const line = (text: string, o: { size?: number; f?: PDFFont; indent?: number; colour?: [number, number, number] } = {}) => {
    const size = o.size ?? 9;
    const f = o.f ?? font;
    for (const l of wrap(text, f, size, W - 2 * M - (o.indent ?? 0))) {
      if (y < M + size) {
        page = doc.addPage([W, H]);
        y = H - M;
      }
      page.drawText(l, { x: M + (o.indent ?? 0), y, size, font: f, color: rgb(...(o.colour ?? [0, 0, 0])) });
      y -= size * 1.35;
    }
  };
  line('MedImgShr trust report', { size: 16, f: bold });
  line(`Study ${panel.studyInstanceUid}`, { size: 10 });
  line(`Generated ${new Date().toISOString()}`, { size: 9 });
  y -= 4;
  const L = panel.ledger;
  if (!L.reachable) line('LEDGER UNREACHABLE: this report shows the last synced copy and may be out of date.', { f: bold, colour: [0.7, 0, 0] });
  line(`Ledger: chain ${L.chainId ?? '?'}, contract ${L.contract ?? '?'}, synced to block ${L.lastSyncedBlock ?? '?'} at ${L.lastSyncedAt ?? 'never'}.`);
  if (panel.verification) {
    const c = panel.verification.counts;
    line(`Verification: ${panel.verification.state} - ${c.verified} verified, ${c.altered} altered, ${c['not-registered']} not registered, ${c['ledger-unreachable']} unreachable, ${c.unreadable} unreadable.`);
  }
  if (panel.patient) {
    line(`Patient account ${panel.patient.account}: credit score ${panel.patient.score ?? 'unknown'} (${panel.patient.history.length} change(s)).`);
  }
  if (panel.actingInstitution) {
    const a = panel.actingInstitution;
    line(`Acting institution ${a.institution.label ?? ''} ${a.institution.address}: score ${a.score ?? '?'}${a.suspended ? ', SUSPENDED' : ''}; may receive shares: ${a.canReceive ? 'yes' : 'no'}.`);
  }
  line(`Thresholds (${panel.thresholdsFrom === 'contract' ? 'from the contract' : 'from the local policy mirror'}): ${panel.thresholds.map((t) => `${t.key} ${t.value}`).join(', ')}.`);
  y -= 6;
  line(`History (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'})`, { size: 12, f: bold });
  for (const e of entries) {
    line(`${e.time ?? '(time unknown)'}  ${e.title}`, { f: bold });
    line(e.detail, { indent: 12 });
    line(`block ${e.block}, tx ${e.txHash}`, { indent: 12, size: 7, colour: [0.35, 0.35, 0.35] });
    y -= 2;
  }
  const pages = doc.getPages();
  pages.forEach((p, i) => p.drawText(`page ${i + 1} of ${pages.length}`, { x: W - M - 60, y: M / 2, size: 7, font }));
  return doc.save();
}

/** Writes a report to `path` atomically (src/node/atomic.ts); returns its size in bytes. */
export async function writeAtomic(path: string, data: string | Uint8Array): Promise<number> {
  const target = resolve(path);
  try {
    await mkdir(dirname(target), { recursive: true });
    await writeFileAtomic(target, data, { mode: 0o644 });
  } catch (err) {
    throw new AppError(ErrorCode.Unavailable, `The file cannot be written: ${(err as Error).message}.`, 'Choose a folder you may write to.');
  }
  return typeof data === 'string' ? Buffer.byteLength(data) : data.length;
}
