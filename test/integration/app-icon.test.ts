import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error a plain .mjs build script, no types
import { ICON_OUT, ICON_SIZES, renderIcons } from '../../scripts/icons.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('app icon: one vector source, every size electron-builder needs', () => {
  renderIcons({ quiet: true });

  it('renders a PNG of each size from 16 to 1024, drawn (not blank)', () => {
    expect(ICON_SIZES).toEqual(expect.arrayContaining([16, 32, 256, 512, 1024]));
    for (const size of ICON_SIZES as number[]) {
      const png = PNG.sync.read(readFileSync(join(ICON_OUT, 'icons', `${size}x${size}.png`)));
      expect([png.width, png.height]).toEqual([size, size]);
      // the corner is transparent (rounded square), the centre is opaque
      expect(png.data[3]).toBe(0);
      const c = ((size >> 1) * size + (size >> 1)) * 4;
      expect(png.data[c + 3]).toBe(255);
    }
  });

  it('writes a Windows .ico and a macOS .icns with the sizes inside', () => {
    const ico = readFileSync(join(ICON_OUT, 'icon.ico'));
    expect(ico.readUInt16LE(0)).toBe(0); // reserved
    expect(ico.readUInt16LE(2)).toBe(1); // type: icon
    expect(ico.readUInt16LE(4)).toBeGreaterThanOrEqual(5); // images
    const icns = readFileSync(join(ICON_OUT, 'icon.icns'));
    expect(icns.subarray(0, 4).toString('latin1')).toBe('icns');
    expect(icns.readUInt32BE(4)).toBe(icns.length);
  });

  it('electron-builder.yml points into assets/ for every platform, and the files exist', () => {
    const yml = readFileSync(join(root, 'electron-builder.yml'), 'utf8');
    const paths = [...yml.matchAll(/^\s*(?:icon|buildResources|- from): (assets\/\S+)/gm)].map((m) => m[1]!);
    expect(paths).toEqual(expect.arrayContaining(['assets/build', 'assets/build/icons', 'assets/build/icon.icns', 'assets/build/icon.ico', 'assets/build/icon.png']));
    expect(paths.filter((p) => !existsSync(join(root, p)))).toEqual([]);
  });
});
