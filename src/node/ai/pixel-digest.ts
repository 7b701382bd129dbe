/** The pixel digest of a file (fingerprint spec v1), computed when the fingerprint tables have none. */
import { fingerprintFile } from '../fingerprint/compute';

export async function computePixelDigest(path: string): Promise<string | null> {
  const o = await fingerprintFile(path);
  return o.ok && 'fingerprint' in o ? o.fingerprint.pixel : null;
}
