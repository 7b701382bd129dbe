import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

// The viewer shows badges through a slot (ViewportBadges) that the app fills; it must not reach
// into the ledger-facing UI itself, so the viewer can be replaced (Cornerstone3D) without it.
const root = fileURLToPath(new URL('../..', import.meta.url));
const renderer = join(root, 'src', 'renderer');
const viewer = join(renderer, 'viewer');
const FORBIDDEN = ['verification', 'identity', 'trust', 'admin'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return /\.tsx?$/.test(e.name) ? [p] : [];
  });
}

/** Every module specifier in a source: static imports, re-exports, side-effect and dynamic imports. */
function specifiers(code: string): string[] {
  const out: string[] = [];
  const patterns = [/\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g];
  for (const re of patterns) for (const m of code.matchAll(re)) out.push(m[1]!);
  return out;
}

/** The forbidden renderer folders a file's imports reach into, as "file → specifier" lines. */
function forbiddenImports(file: string, code: string): string[] {
  const bad: string[] = [];
  for (const spec of specifiers(code)) {
    if (!spec.startsWith('.')) continue;
    const target = relative(renderer, resolve(dirname(file), spec));
    const top = target.split(sep)[0]!;
    if (!target.startsWith('..') && FORBIDDEN.includes(top)) bad.push(`${relative(root, file)} → ${spec}`);
  }
  return bad;
}

describe('viewer boundary', () => {
  it('src/renderer/viewer imports nothing from verification/, identity/, trust/ or admin/', () => {
    const files = sources(viewer);
    expect(files.length).toBeGreaterThan(5);
    const bad = files.flatMap((f) => forbiddenImports(f, readFileSync(f, 'utf8')));
    expect(bad).toEqual([]);
  });

  it('catches each kind of import into a forbidden folder', () => {
    const file = join(viewer, 'probe.tsx');
    expect(forbiddenImports(file, "import { ViewerBadges } from '../verification/ViewerBadges';")).toHaveLength(1);
    expect(forbiddenImports(file, "export { useSession } from '../identity/session';")).toHaveLength(1);
    expect(forbiddenImports(file, "import '../trust/trust.css';")).toHaveLength(1);
    expect(forbiddenImports(file, "const m = await import('../admin/ConsoleDrawer');")).toHaveLength(1);
    expect(forbiddenImports(file, "import type { X } from '../verification';")).toHaveLength(1);
    expect(forbiddenImports(file, "import { call } from '../bridge';\nimport { short } from '../format';\nimport { x } from './verification';")).toEqual([]);
  });
});
