import { build } from 'esbuild';
import { pathToFileURL } from 'node:url';
await build({ entryPoints: ['tmp-prof/anchor-only.ts'], outfile: 'dist/bench/anchor-only.mjs', bundle: true, platform: 'node', format: 'esm', target: 'node22', packages: 'external', logLevel: 'warning',
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } });
