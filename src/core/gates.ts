/**
 * The export gate's rule, without I/O: given what the export would contain and how its images
 * verified, whether it may go, whether a typed reason may override it, and each check with its
 * reason. src/node/export/service.ts gathers the facts (verification against the ledger) and
 * applies this.
 */

export type ExportFormatName = 'dicom-anonymised' | 'dicom-original' | 'png';
export type VerificationCounts = Record<'verified' | 'altered' | 'not-registered' | 'ledger-unreachable' | 'unreadable', number>;

export interface RuleCheck {
  code: string;
  ok: boolean;
  message: string;
  remedy: string | null;
}

/** Original DICOM names the patient; a PNG does when it carries overlay text. Anonymised DICOM never does. */
export function isIdentifiable(format: ExportFormatName, overlayText: readonly string[] = []): boolean {
  return format === 'dicom-original' || (format === 'png' && overlayText.some((t) => t.trim().length > 0));
}

/**
 * An identifiable export needs every image verified against the ledger (else a reason to override
 * it, recorded in the audit log); a non-identifiable export may always go.
 */
export function exportGate(input: { format: ExportFormatName; identifiable: boolean; instances: number; counts: VerificationCounts }): {
  allowed: boolean;
  overridable: boolean;
  checks: RuleCheck[];
} {
  const { format, identifiable, instances, counts } = input;
  const allVerified = counts.verified === instances;
  const notOk = Object.entries(counts)
    .filter(([k, n]) => k !== 'verified' && n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const checks: RuleCheck[] = [
    {
      code: 'identifiable',
      ok: true,
      message: identifiable
        ? format === 'dicom-original'
          ? "Original DICOM carries the patient's identity: the images must be verified (or the export overridden with a reason)."
          : 'The PNG carries overlay text that can identify the patient: the images must be verified (or the export overridden with a reason).'
        : format === 'png'
          ? 'A PNG without overlay text; marked NOT FOR DIAGNOSTIC USE.'
          : 'Anonymised following PS3.15 Annex E (Basic Application Level Confidentiality Profile).',
      remedy: null,
    },
    {
      code: 'verified',
      ok: allVerified || !identifiable,
      message: allVerified ? `All ${instances} image(s) are verified against the ledger.` : `${instances - counts.verified} of ${instances} image(s) are not verified (${notOk}).`,
      remedy: identifiable && !allVerified ? 'Export anonymised instead, restore the original images, or override with a typed reason (recorded in the audit log).' : null,
    },
  ];
  const allowed = !identifiable || allVerified;
  return { allowed, overridable: !allowed, checks };
}
