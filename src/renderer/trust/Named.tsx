/** Accounts shown by name (address on hover) wherever the trust panel and the audit log mention one. */
import type { ReactNode } from 'react';
import type { PartyRef, TrustPanel } from '../../shared/api';
import { accountName } from '../format';
import { When } from '../When';

export interface PanelNames {
  /** Address → display name. */
  names: Record<string, string>;
  /** The labels as the main process writes them in sentences ("Name (role)"). */
  labels: string[];
}

/** Address → display name for every party the panel knows a name for. */
export function namesOfPanel(panel: TrustPanel): PanelNames {
  const out: Record<string, string> = {};
  const labels = new Set<string>();
  const add = (p: PartyRef | null | undefined) => {
    if (!p?.label) return;
    labels.add(p.label);
    out[p.address] = p.label.replace(/\s*\((institution|clinician|patient|regulator)\)\s*$/i, '');
  };
  for (const r of panel.records) [r.institution, r.clinician].forEach(add);
  for (const c of panel.consents) add(c.institution);
  for (const a of panel.accesses) [a.recipient, a.accessor].forEach(add);
  add(panel.patient?.party);
  for (const h of panel.patient?.history ?? []) add(h.by);
  add(panel.actingInstitution?.institution);
  for (const h of panel.actingInstitution?.history ?? []) add(h.by);
  return { names: out, labels: [...labels].sort((a, b) => b.length - a.length) };
}

export function Account({ address, names }: { address: string; names: Record<string, string> | null | undefined }) {
  const known = names?.[address] !== undefined;
  return (
    <span className={known ? 'account' : 'account mono'} title={address} data-address={address}>
      {accountName(address, names)}
    </span>
  );
}

/** An account address (exactly 40 hex digits), or an ISO 8601 UTC time written by the main process. */
const TOKEN = /0x[0-9a-fA-F]{40}(?![0-9a-fA-F])|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/g;

/**
 * A sentence from the main process ("… recorded by Dr. Ada (0xAbC…) for 0x12… until 2026-12-29T10:51:15.000Z"):
 * each account becomes its name (or a short address) with the full address on hover, "Name (0x…)"
 * collapses to the name, and each ISO time is written in the one UI format (ISO on hover).
 */
export function NamedText({ text, names, labels = [] }: { text: string; names: Record<string, string> | null | undefined; labels?: string[] }) {
  const out: ReactNode[] = [];
  let at = 0;
  for (const m of text.matchAll(TOKEN)) {
    const a = m[0];
    let start = m.index;
    let end = start + a.length;
    if (!a.startsWith('0x')) {
      out.push(text.slice(at, start));
      out.push(<When key={`${m.index}`} iso={a} />);
      at = end;
      continue;
    }
    // "label (address)" as the main process writes a known party: keep only the name.
    for (const l of [...labels, ...Object.values(names ?? {})]) {
      const before = `${l} (`;
      if (text.slice(start - before.length, start) === before && text[end] === ')') {
        start -= before.length;
        end += 1;
        break;
      }
    }
    if (start < at) continue;
    out.push(text.slice(at, start));
    out.push(<Account key={`${m.index}`} address={a} names={names} />);
    at = end;
  }
  out.push(text.slice(at));
  return <>{out}</>;
}
