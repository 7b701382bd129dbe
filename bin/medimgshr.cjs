#!/usr/bin/env node
// The `medimgshr` command. Runs the CLI bundle that `npm ci` / `npm run build` produce.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const bundle = join(__dirname, '..', 'dist', 'cli', 'main.cjs');
if (!existsSync(bundle)) {
  process.stderr.write('medimgshr is not built yet: run "npm run build" in the MedImgShr folder.\n');
  process.exit(1);
}
// Exit only once stdout has drained: writes to a pipe are asynchronous, and process.exit() right
// after a large --json result would cut it short.
const exitAfterFlush = (code) => process.stdout.write('', () => process.exit(code));
require(bundle)
  .main(process.argv)
  .then(exitAfterFlush)
  .catch((err) => {
    process.stderr.write(`error: ${err && err.message ? err.message : String(err)}\n`);
    process.exit(1);
  });
