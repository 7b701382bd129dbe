/**
 * The only bridge between the sandboxed renderer and the main process. It exposes three
 * functions as `window.medimg`; the main process validates everything that comes through.
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import type { MedImgBridge } from '../src/shared/api';

const bridge: MedImgBridge = {
  invoke: (channel, request) => ipcRenderer.invoke('medimg:invoke', channel, request),
  on: (listener) => {
    const wrapped = (_e: IpcRendererEvent, event: Parameters<typeof listener>[0]) => listener(event);
    ipcRenderer.on('medimg:event', wrapped);
    return () => {
      ipcRenderer.removeListener('medimg:event', wrapped);
    };
  },
  // Dropped files: the path is all the main process gets; it reads and validates the file itself.
  pathForFile: (file) => webUtils.getPathForFile(file),
};

contextBridge.exposeInMainWorld('medimg', bridge);
