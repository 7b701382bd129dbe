import { detectComponents, type Component } from './components';
import { appHome, ensureAppHome } from './app-home';
import { openDatabase, schemaVersion } from './store/database';
import { migrations } from './store/migrations';
import { appVersion, packageVersion } from './version';

export interface DoctorReport {
  app: { name: string; version: string };
  appHome: string;
  database: { path: string; schemaVersion: number; latestSchemaVersion: number; sqlite: string; journalMode: string };
  versions: Record<string, string | null>;
  components: Component[];
}

/** What `medimgshr doctor` prints: enough for a clinic's IT person to see what is missing. */
export function runDoctor(homeRoot: string): DoctorReport {
  const home = ensureAppHome(appHome(homeRoot));
  const db = openDatabase(home.database);
  try {
    const sqlite = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
    const journalMode = String(db.pragma('journal_mode', { simple: true }));
    return {
      app: { name: 'MedImgShr', version: appVersion() },
      appHome: home.root,
      database: {
        path: home.database,
        schemaVersion: schemaVersion(db),
        latestSchemaVersion: Math.max(0, ...migrations.map((m) => m.version)),
        sqlite,
        journalMode,
      },
      versions: {
        node: process.versions.node,
        'better-sqlite3': packageVersion('better-sqlite3'),
        ethers: packageVersion('ethers'),
        'dicom-parser': packageVersion('dicom-parser'),
        dcmjs: packageVersion('dcmjs'),
        electron: packageVersion('electron'),
      },
      components: detectComponents(),
    };
  } finally {
    db.close();
  }
}
