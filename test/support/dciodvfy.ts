/** dicom3tools' IOD validator (dciodvfy) as the independent judge of every DICOM file the app writes. */
import { spawnSync } from 'node:child_process';
import { which } from '../../src/node/which';

/** Its path, or null; under CI its absence is a failure, not a skip. */
export const dciodvfy = which('dciodvfy');
if (!dciodvfy && process.env.CI) throw new Error('dciodvfy is required under CI: apt-get install dicom3tools');

/** dciodvfy's error and warning lines for one file. */
export function validate(file: string): { errors: string[]; warnings: string[] } {
  const r = spawnSync(dciodvfy!, [file], { encoding: 'utf8' });
  const lines = `${r.stdout}${r.stderr}`.split('\n').map((l) => l.trim());
  return { errors: lines.filter((l) => l.startsWith('Error')), warnings: lines.filter((l) => l.startsWith('Warning')) };
}
