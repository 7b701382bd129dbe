/**
 * What an altered image looks like where it is read: a red frame around the whole viewport and a
 * banner in the viewport's reserved top row (never over the image or its overlay text) that says
 * what differs and what to do. The series row and the study row in the browser carry the same
 * state as text (AlteredSeriesMark, BrowserStudyBadge), so it is never told by colour alone.
 */
import { useEffect, useState } from 'react';
import type { InstanceVerification } from '../../shared/api';
import { call } from '../bridge';
import { partyName, short } from '../format';
import { useSession } from '../identity/session';

type Differs = InstanceVerification['differs'];

/** "pixel data", "metadata", "pixel data and metadata". */
export function differsText(differs: Differs): string {
  const parts = [differs.includes('pixels') ? 'pixel data' : null, differs.includes('metadata') ? 'metadata' : null].filter(Boolean);
  return parts.length ? parts.join(' and ') : 'the content';
}

/** "pixel digest", "metadata digest", "pixel and metadata digests". */
function digestNames(differs: Differs): string {
  const p = differs.includes('pixels');
  const m = differs.includes('metadata');
  return p && m ? 'pixel and metadata digests' : p ? 'pixel digest' : m ? 'metadata digest' : 'digests';
}

const institutionNames = new Map<string, Promise<string | null>>();

/** The registry's (local) label of an institution, asked once per address. */
function registryName(address: string): Promise<string | null> {
  const key = address.toLowerCase();
  let p = institutionNames.get(key);
  if (!p) {
    p = call('trust.institutions', {}).then(
      (r) => {
        const hit = r.institutions.find((i) => i.party.address.toLowerCase() === key);
        return hit && hit.party.label ? partyName(hit.party) : null;
      },
      () => null,
    );
    institutionNames.set(key, p);
    void p.then((v) => v === null && institutionNames.delete(key));
  }
  return p;
}

/** The name of the institution that anchored the record: this workstation's identities, else the registry, else its address. */
export function useInstitutionName(address: string | null | undefined): string | null {
  const session = useSession();
  const local = address ? session.identities.find((i) => i.address.toLowerCase() === address.toLowerCase())?.displayName : undefined;
  const [remote, setRemote] = useState<string | null>(null);
  useEffect(() => {
    setRemote(null);
    if (!address || local) return;
    let alive = true;
    void registryName(address).then((n) => alive && setRemote(n));
    return () => {
      alive = false;
    };
  }, [address, local]);
  if (!address) return null;
  // "DEMO Clinic (institution)" → "DEMO Clinic" (the same label rule as partyName).
  return local ? partyName({ address, label: local, role: 'institution' }) : (remote ?? `at ${short(address)}`);
}

/** The digests that differ, now versus anchored (12 hex characters each, the full value in the title). */
function digestLines(v: InstanceVerification): { label: string; now: string; anchored: string }[] {
  const out: { label: string; now: string; anchored: string }[] = [];
  if (!v.actual || !v.expected) return out;
  if (v.differs.includes('pixels')) out.push({ label: 'pixel digest', now: v.actual.pixel, anchored: v.expected.pixel });
  if (v.differs.includes('metadata')) out.push({ label: 'metadata digest', now: v.actual.meta, anchored: v.expected.meta });
  return out;
}

/** The red frame and the banner of an altered image in a viewport. */
export function AlteredAlert({ v }: { v: InstanceVerification }) {
  const institution = useInstitutionName(v.evidence?.institution);
  const what = differsText(v.differs);
  const digests = digestLines(v);
  return (
    <>
      <div className="vframe vframe--altered" data-testid="altered-frame" data-verification="altered" aria-hidden="true" />
      <div className="valert" role="alert" data-testid="altered-banner" data-differs={v.differs.join(' ')}>
        <p className="valert__title">
          <span aria-hidden="true">✕ </span>ALTERED IMAGE — its {what} differ from the anchored record ({digestNames(v.differs)})
          {digests.map((d) => (
            <span className="valert__digest" key={d.label} title={`${d.label} now ${d.now}; anchored ${d.anchored}`}>
              {' '}
              · {d.label} now <span className="mono">{d.now.slice(0, 8)}…</span> anchored <span className="mono">{d.anchored.slice(0, 8)}…</span>
            </span>
          ))}
        </p>
        <p className="valert__do">
          Do not rely on this image for diagnosis. Compare with the PACS copy; report to the anchoring institution{' '}
          <strong data-testid="altered-institution">{institution ?? '(unknown: no record)'}</strong>.
        </p>
      </div>
    </>
  );
}
