import type { SplitSettingsView } from '../../shared/api/split';
import type { splitChannels } from '../../shared/api/split';
import type { Services } from '../services';
import type { HandlerTable } from './dispatch';

/** Settings → Storage and the browser's SPLIT mark (src/node/split/service.ts). */
export function splitHandlers(s: Services): Pick<HandlerTable, keyof typeof splitChannels> {
  const view = (): SplitSettingsView => {
    const st = s.split.settings();
    return { onImport: st.onImport, store: st.store, location: s.split.storage.store.location, knownStores: st.knownStores, instances: s.split.storage.index.count() };
  };
  return {
    'split.settings': () => view(),
    'split.updateSettings': (r) => {
      s.split.saveSettings({ ...(r.onImport !== undefined ? { onImport: r.onImport } : {}), ...(r.store !== undefined ? { store: r.store || null } : {}) });
      return view();
    },
    'split.testStore': (r) => s.split.testStore(r.store ?? null),
    'split.addStore': (r) => {
      s.split.addKnownStore(r.uri, r.at);
      return view();
    },
    'split.removeStore': (r) => {
      s.split.removeKnownStore(r.uri);
      return view();
    },
    'split.studies': () => ({ studies: s.split.studies() }),
  };
}
