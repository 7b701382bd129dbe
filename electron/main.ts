/**
 * Electron glue: app lifecycle, the one window, the app:// protocol, the IPC bridge.
 * Everything else lives in src/node and is shared with the CLI and the tests.
 */
import { app, BrowserWindow, dialog, ipcMain, protocol, session, type WebContents } from 'electron';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Services } from '../src/node/services';
import { createHandlerTable, dispatch } from '../src/node/handlers';
import { APP_ORIGIN } from '../src/shared/csp';
import { appHome, defaultAppHomeRoot } from '../src/node/app-home';
import { pacsSecretBox } from './pacs-secret-box';
import { startDemo } from '../src/node/ledger';
import { registerAppProtocolScheme, serveAppProtocol } from './protocol';
import { hardenSession, hardenWebContents } from './hardening';

registerAppProtocolScheme(protocol);

let mainWindow: BrowserWindow | null = null;
let services: Services | null = null;

/** The app icon: resources/icon.png when packaged, the build's render of assets/icon.svg when run from the tree. */
function appIconPath(): string | undefined {
  const p = app.isPackaged ? join(process.resourcesPath, 'icon.png') : join(__dirname, '..', '..', 'assets', 'build', 'icon.png');
  return existsSync(p) ? p : undefined;
}

function isTrustedSender(sender: WebContents, frameUrl: string | undefined): boolean {
  return mainWindow !== null && sender === mainWindow.webContents && !!frameUrl && frameUrl.startsWith(`${APP_ORIGIN}/`);
}

async function createWindow(s: Services): Promise<void> {
  mainWindow = new BrowserWindow({
    width: 1440,
    height: 900,
    minWidth: 960,
    minHeight: 600,
    backgroundColor: '#0b0d10',
    title: 'MedImgShr',
    icon: appIconPath(),
    show: false,
    webPreferences: {
      preload: join(__dirname, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      spellcheck: false,
      // middle-click must not open links in new windows
      disableBlinkFeatures: 'Auxclick',
    },
  });
  mainWindow.once('ready-to-show', () => mainWindow?.show());
  const forward = (event: unknown) => mainWindow?.webContents.send('medimg:event', event);
  s.events.on('event', forward);
  mainWindow.on('closed', () => {
    s.events.off('event', forward);
    mainWindow = null;
  });
  await mainWindow.loadURL(`${APP_ORIGIN}/index.html`);
}

async function start(): Promise<void> {
  const home = process.env.MEDIMG_HOME ?? (app.isPackaged ? app.getPath('userData') : defaultAppHomeRoot());
  hardenSession(session.defaultSession);
  services = await Services.open({
    home,
    // MEDIMG_RPC_URL, else the ledger chosen in the settings, else the embedded chain
    ledger: { mode: 'saved' },
    runtime: { electron: process.versions.electron ?? null, chrome: process.versions.chrome ?? null },
    pacsSecrets: pacsSecretBox(appHome(home).keystores, (msg) => console.warn(`MedImgShr: ${msg}`)),
  });
  services.dialogs = {
    async pickPaths(mode) {
      if (!mainWindow) return [];
      const r = await dialog.showOpenDialog(mainWindow, {
        title: mode === 'folder' ? 'Import a folder of DICOM files' : 'Import DICOM files',
        properties: mode === 'folder' ? ['openDirectory'] : ['openFile', 'multiSelections'],
      });
      return r.canceled ? [] : r.filePaths;
    },
  };
  // Building the ledger service registers queued anchors with the outbox and starts the chain-event
  // sync; the demo on the embedded chain has its synthetic study anchored by the DEMO clinician, so
  // the first screen is a verified study.
  startDemo(services.ledgerService, { anchorDemoStudy: true });
  const table = createHandlerTable(services);
  serveAppProtocol(protocol, join(__dirname, '..', 'renderer'), services.resources);
  const s = services;
  ipcMain.handle('medimg:invoke', (event, channel: unknown, request: unknown) =>
    dispatch(
      table,
      channel,
      request,
      { url: event.senderFrame?.url ?? '', trusted: isTrustedSender(event.sender, event.senderFrame?.url) },
      s.log,
    ),
  );
  await createWindow(services);
  services.warmUp();
}

app.on('web-contents-created', (_event, contents) => hardenWebContents(contents));

app.setAboutPanelOptions({
  applicationName: 'MedImgShr',
  applicationVersion: app.getVersion(),
  iconPath: appIconPath(),
  credits: 'A DICOM viewer that proves where an image came from.',
});

app.whenReady().then(start, (err: unknown) => {
  console.error(`MedImgShr could not start: ${err instanceof Error ? err.message : String(err)}`);
  app.exit(1);
});

app.on('window-all-closed', () => app.quit());

// Stop the embedded ledger gracefully (anvil dumps its state on SIGTERM) before quitting.
let quitting = false;
app.on('before-quit', (event) => {
  if (quitting || !services) return;
  event.preventDefault();
  quitting = true;
  void services.close().finally(() => app.quit());
});
