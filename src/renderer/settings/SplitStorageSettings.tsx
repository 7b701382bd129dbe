import { useCallback, useEffect, useState } from 'react';
import type { SplitSettingsView, StoreTestResult } from '../../shared/api';
import { bridge, call } from '../bridge';
import { errorText, type UserError } from '../errors';
import { DialogActions, DialogOutcome, SettingsDialog } from './SettingsDialog';
import './split-storage.css';


/**
 * Settings → Storage: split on import (each image becomes a metadata part kept here and an
 * encrypted pixel blob in the pixel store; the viewer rebuilds it on demand), which pixel store
 * (a folder, or a WebDAV URL), a Test button, and other institutions' stores this workstation may
 * read when it receives a share by metadata (docs/split-storage.md).
 */
export function SplitStorageSettings({ onClose }: { onClose: () => void }) {
  const [view, setView] = useState<SplitSettingsView | null>(null);
  const [onImport, setOnImport] = useState(false);
  const [kind, setKind] = useState<'default' | 'custom'>('default');
  const [store, setStore] = useState('');
  const [busy, setBusy] = useState<'save' | 'test' | null>(null);
  const [error, setError] = useState<UserError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [test, setTest] = useState<StoreTestResult | null>(null);
  const [newUri, setNewUri] = useState('');
  const [newAt, setNewAt] = useState('');

  const load = useCallback((v: SplitSettingsView) => {
    setView(v);
    setOnImport(v.onImport);
    setKind(v.store ? 'custom' : 'default');
    setStore(v.store ?? '');
  }, []);
  useEffect(() => {
    call('split.settings', {}).then(load, (e) => setError(errorText(e)));
  }, [load]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  const chosen = kind === 'custom' ? store.trim() : null;
  const save = async () => {
    setBusy('save');
    setError(null);
    setDone(null);
    try {
      const v = await call('split.updateSettings', { onImport, store: chosen });
      load(v);
      setDone(`Saved. Split on import is ${v.onImport ? 'on' : 'off'}; pixel store ${v.location}.`);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(null);
    }
  };
  const runTest = async () => {
    setBusy('test');
    setTest(null);
    setError(null);
    try {
      setTest(await call('split.testStore', { store: chosen }));
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(null);
    }
  };
  const addStore = async () => {
    setError(null);
    try {
      load(await call('split.addStore', { uri: newUri.trim(), ...(newAt.trim() ? { at: newAt.trim() } : {}) }));
      setNewUri('');
      setNewAt('');
    } catch (e) {
      setError(errorText(e));
    }
  };
  const removeStore = async (uri: string) => {
    try {
      load(await call('split.removeStore', { uri }));
    } catch (e) {
      setError(errorText(e));
    }
  };

  return (
    <SettingsDialog title="Storage" label="Storage settings" testId="split-storage-settings" cardClassName="split-settings__card" onClose={onClose}>
        <p className="modal__note">
          Split storage keeps each image as two parts: its metadata (every DICOM element except Pixel Data, with the patient's identity) here on
          this workstation, and its Pixel Data encrypted in a pixel store. Opening an image rebuilds the original file, byte for byte. A share
          by metadata then sends only the metadata and the keys; the recipient fetches the pixels from the store.
        </p>
        <fieldset className="split-settings__group">
          <legend>Split on import</legend>
          <label className="settings__choice">
            <input type="radio" name="split-on-import" checked={!onImport} onChange={() => setOnImport(false)} data-testid="split-off" />
            <span>
              <strong>Off</strong>
              <small>Imported images stay whole files (the default).</small>
            </span>
          </label>
          <label className="settings__choice">
            <input type="radio" name="split-on-import" checked={onImport} onChange={() => setOnImport(true)} data-testid="split-on" />
            <span>
              <strong>On</strong>
              <small>Every imported image is split; the source files are left where they are.</small>
            </span>
          </label>
        </fieldset>
        <fieldset className="split-settings__group">
          <legend>Pixel store</legend>
          <label className="settings__choice">
            <input type="radio" name="split-store" checked={kind === 'default'} onChange={() => setKind('default')} data-testid="split-store-default" />
            <span>
              <strong>A folder in the app-data folder</strong>
              <small className="mono">{kind === 'default' && view ? view.location : 'blobs/split'}</small>
            </span>
          </label>
          <label className="settings__choice">
            <input type="radio" name="split-store" checked={kind === 'custom'} onChange={() => setKind('custom')} data-testid="split-store-custom" />
            <span>
              <strong>Another folder, or a WebDAV server</strong>
              <small>An absolute folder path (/srv/pixel-store) or a URL (https://store.region.example/blobs/).</small>
            </span>
          </label>
          {kind === 'custom' && (
            <input
              className="mono split-settings__store"
              aria-label="Pixel store folder or WebDAV URL"
              data-testid="split-store-input"
              value={store}
              placeholder="/srv/pixel-store or https://store.region.example/blobs/"
              onChange={(e) => setStore(e.target.value)}
              spellCheck={false}
            />
          )}
          <div className="split-settings__test">
            <button type="button" className="btn" data-testid="split-test" disabled={busy !== null || (kind === 'custom' && !store.trim())} onClick={() => void runTest()}>
              {busy === 'test' ? 'Testing…' : 'Test'}
            </button>
            {test && (
              <span className="split-settings__result" role="status" data-testid="split-test-result" data-ok={String(test.ok)}>
                {test.ok ? '✓ ' : '✗ '}
                {test.message}
                {test.hint && <small> {test.hint}</small>}
              </span>
            )}
          </div>
        </fieldset>
        <fieldset className="split-settings__group">
          <legend>Other institutions' pixel stores</legend>
          <p className="modal__note">A share by metadata names the store its images are in. This workstation reads only the stores listed here.</p>
          <ul className="split-settings__known" data-testid="split-known-stores">
            {view && view.knownStores.length === 0 && <li className="modal__note">None yet.</li>}
            {view?.knownStores.map((k) => (
              <li key={k.uri}>
                <span className="mono">{k.uri}</span>
                {k.at !== k.uri && <small className="mono"> reached at {k.at}</small>}
                <button type="button" className="btn btn--link" aria-label={`Remove ${k.uri}`} onClick={() => void removeStore(k.uri)}>✕</button>
              </li>
            ))}
          </ul>
          <div className="split-settings__add">
            <input className="mono" aria-label="Store URI named by the share" placeholder="store URI (file:///… or https://…)" value={newUri} onChange={(e) => setNewUri(e.target.value)} spellCheck={false} />
            <input className="mono" aria-label="Where this workstation reaches it (optional)" placeholder="reached at (optional)" value={newAt} onChange={(e) => setNewAt(e.target.value)} spellCheck={false} />
            <button type="button" className="btn" disabled={!newUri.trim()} onClick={() => void addStore()}>Add</button>
          </div>
        </fieldset>
        {view && <p className="modal__note" data-testid="split-count">{view.instances} image(s) are kept split on this workstation.</p>}
        <DialogOutcome error={error} done={done} />
        <DialogActions onClose={onClose}>
          <button type="button" className="btn btn--primary" data-testid="split-save" disabled={busy !== null || (kind === 'custom' && !store.trim())} onClick={() => void save()}>
            {busy === 'save' ? 'Saving…' : 'Save'}
          </button>
        </DialogActions>
    </SettingsDialog>
  );
}

/** The status-bar entry: whether imports are split, opens Settings → Storage. */
export function SplitStorageStatusButton() {
  const [open, setOpen] = useState(false);
  const [view, setView] = useState<SplitSettingsView | null>(null);
  useEffect(() => {
    if (!open) call('split.settings', {}).then(setView, () => undefined);
  }, [open]);
  useEffect(() => {
    try {
      return bridge().on((e) => {
        if (e.type === 'library-changed') call('split.settings', {}).then(setView, () => undefined);
      });
    } catch {
      return undefined;
    }
  }, []);
  return (
    <>
      <button type="button" className="split-status" data-testid="split-status" data-on={String(view?.onImport ?? false)} title="Settings → Storage: split storage and pixel stores" onClick={() => setOpen(true)}>
        Storage: {view?.onImport ? 'split on import' : 'whole files'}
      </button>
      {open && <SplitStorageSettings onClose={() => setOpen(false)} />}
    </>
  );
}
