/** The PACS connections as the renderer knows them (no secrets), shared by the settings dialog and the source switch. */
import { useEffect, useSyncExternalStore } from 'react';
import type { PacsConnectionInfo } from '../../shared/api';
import { call } from '../bridge';
import { Store } from '../store';

const store = new Store<PacsConnectionInfo[] | null>(null);

export async function refreshConnections(): Promise<PacsConnectionInfo[]> {
  const r = await call('pacs.connections.list', {});
  store.set(r.connections);
  return r.connections;
}

/** The connections, loaded on first use; null until the first answer. */
export function usePacsConnections(): PacsConnectionInfo[] | null {
  const list = useSyncExternalStore(store.subscribe, store.get);
  useEffect(() => {
    if (store.get() === null) void refreshConnections().catch(() => store.set([]));
  }, []);
  return list;
}

/** The settings dialog, opened from anywhere (status bar, the study browser's source switch). */
export const pacsSettingsOpen = new Store<boolean>(false);
export function usePacsSettingsOpen(): boolean {
  return useSyncExternalStore(pacsSettingsOpen.subscribe, pacsSettingsOpen.get);
}
