import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';

// Runs the project's real ESLint config on probe sources placed (virtually) in each layer.
const root = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: root });

async function layerErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}/${file}` });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'medimg/layers').map((m) => m.message);
}

describe('layer rule (npm run lint)', () => {
  it('fails a renderer file that imports from src/node', async () => {
    const errs = await layerErrors('src/renderer/probe.ts', "import { openDatabase } from '../node/store/database';\nexport const x = openDatabase;\n");
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(/renderer must not import node/);
  });

  it('fails a renderer file that imports electron, fs or better-sqlite3', async () => {
    const errs = await layerErrors(
      'src/renderer/probe.ts',
      "import { ipcRenderer } from 'electron';\nimport { readFileSync } from 'node:fs';\nimport Db from 'better-sqlite3';\nexport const x = [ipcRenderer, readFileSync, Db];\n",
    );
    expect(errs).toEqual([
      expect.stringMatching(/Only electron\/ may import Electron/),
      expect.stringMatching(/Node built-in "node:fs"/),
      expect.stringMatching(/native module "better-sqlite3"/),
    ]);
  });

  it('fails core importing shared or node, and node importing electron', async () => {
    expect(await layerErrors('src/core/probe.ts', "import { x } from '../shared/errors';\nexport const y = x;\n")).toHaveLength(1);
    expect(await layerErrors('src/node/probe.ts', "import { app } from 'electron';\nexport const y = app;\n")).toHaveLength(1);
  });

  it('fails an import between two src/node domains that the allow-list forbids (the old loops)', async () => {
    const trustToShare = await layerErrors('src/node/trust/probe.ts', "import { ShareService } from '../share/service';\nexport const y = ShareService;\n");
    expect(trustToShare).toHaveLength(1);
    expect(trustToShare[0]).toMatch(/src\/node\/trust must not import src\/node\/share/);
    expect(await layerErrors('src/node/identity/probe.ts', "import { LedgerMonitor } from '../ledger/monitor';\nexport const y = LedgerMonitor;\n")).toHaveLength(1);
    expect(await layerErrors('src/node/dicom/probe.ts', "import { ExportService } from '../export/service';\nexport const y = ExportService;\n")).toHaveLength(1);
    expect(await layerErrors('src/node/ledger/probe.ts', "import { TrustService } from '../trust';\nexport const y = TrustService;\n")).toHaveLength(1);
    // a domain never reaches back into the composition root
    expect(await layerErrors('src/node/share/probe.ts', "import { Services } from '../services';\nexport const y = Services;\n")).toHaveLength(1);
    // a new folder must be added to the allow-list before it may import another domain
    expect(await layerErrors('src/node/newdomain/probe.ts', "import { Library } from '../library/library';\nexport const y = Library;\n")).toEqual([expect.stringMatching(/not in the domain allow-list/)]);
  });

  it('lets each layer import what the design allows', async () => {
    expect(await layerErrors('src/renderer/probe.ts', "import type { AppInfo } from '../shared/api';\nexport type X = AppInfo;\n")).toEqual([]);
    expect(await layerErrors('src/node/probe.ts', "import { join } from 'node:path';\nimport { ErrorCode } from '../shared/errors';\nexport const y = [join, ErrorCode];\n")).toEqual([]);
    expect(await layerErrors('src/node/share/probe.ts', "import { TrustService } from '../trust';\nimport { openDatabase } from '../store/database';\nimport { writeFileAtomic } from '../atomic';\nexport const y = [TrustService, openDatabase, writeFileAtomic];\n")).toEqual([]);
    expect(await layerErrors('electron/probe.ts', "import { app } from 'electron';\nimport { Services } from '../src/node/services';\nexport const y = [app, Services];\n")).toEqual([]);
  });
});
