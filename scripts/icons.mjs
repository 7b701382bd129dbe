#!/usr/bin/env node
// The app icon, from its one vector source (assets/icon.svg), in every size and format electron-builder and the
// window need: assets/build/icons/<n>x<n>.png (16–1024), assets/build/icon.png (512), icon.ico, icon.icns.
// Cached by the source's hash, so a build that changes nothing renders nothing.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
export const ICON_SOURCE = join(root, 'assets/icon.svg');
export const ICON_OUT = join(root, 'assets/build');
export const ICON_SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024];

export function renderIcons({ quiet = false } = {}) {
  const svg = readFileSync(ICON_SOURCE);
  const hash = createHash('sha256').update(svg).update(JSON.stringify(ICON_SIZES)).digest('hex');
  const stamp = join(ICON_OUT, '.source-sha256');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === hash && existsSync(join(ICON_OUT, 'icon.icns'))) return { rendered: false };
  const { Resvg } = require('@resvg/resvg-js');
  const png2icons = require('png2icons');
  mkdirSync(join(ICON_OUT, 'icons'), { recursive: true });
  const png = (size) => new Resvg(svg, { fitTo: { mode: 'width', value: size } }).render().asPng();
  for (const size of ICON_SIZES) writeFileSync(join(ICON_OUT, 'icons', `${size}x${size}.png`), png(size));
  const big = png(1024);
  writeFileSync(join(ICON_OUT, 'icon.png'), png(512));
  writeFileSync(join(ICON_OUT, 'icon.ico'), png2icons.createICO(big, png2icons.BICUBIC2, 0, false, true));
  writeFileSync(join(ICON_OUT, 'icon.icns'), png2icons.createICNS(big, png2icons.BICUBIC2, 0));
  writeFileSync(stamp, hash);
  if (!quiet) console.log(`icons: ${ICON_SIZES.length} PNG sizes, icon.ico, icon.icns in ${ICON_OUT}`);
  return { rendered: true };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) renderIcons();
