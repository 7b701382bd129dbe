import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';
import type { SeriesView, StackItem, ViewportApi } from './types';

export type CineOp = Parameters<ViewportApi['cine']>[0];

/**
 * Cine: plays the stack in a loop at a frame rate of 1–60 fps. The next image is asked for only
 * after the previous one is drawn, so a slow decode lowers the rate instead of piling up loads.
 * Stops when the series changes or the viewport goes away.
 */
export function useCine(series: SeriesView | null, stackRef: RefObject<StackItem[]>, posRef: RefObject<number>, show: (target: number) => Promise<void>) {
  const cineRef = useRef<{ playing: boolean; fps: number; timer: number | null }>({ playing: false, fps: 15, timer: null });
  const [cine, setCine] = useState({ playing: false, fps: 15 });

  const stop = useCallback(() => {
    const c = cineRef.current;
    if (c.timer !== null) clearTimeout(c.timer);
    c.timer = null;
    c.playing = false;
    setCine((s) => (s.playing ? { ...s, playing: false } : s));
  }, []);

  const start = useCallback(() => {
    const c = cineRef.current;
    if (stackRef.current.length < 2) return;
    c.playing = true;
    setCine({ playing: true, fps: c.fps });
    const tick = async () => {
      if (!c.playing) return;
      const started = performance.now();
      const n = stackRef.current.length;
      await show((posRef.current + 1) % n);
      if (!c.playing) return;
      const wait = Math.max(0, 1000 / c.fps - (performance.now() - started));
      c.timer = window.setTimeout(() => void tick(), wait);
    };
    c.timer = window.setTimeout(() => void tick(), 1000 / c.fps);
  }, [stackRef, posRef, show]);

  useEffect(() => {
    stop();
    return stop;
  }, [series, stop]);

  /** Play, stop, toggle, or step the rate (by 1 below 5 fps, else by 5). */
  const command = useCallback(
    (op: CineOp) => {
      const c = cineRef.current;
      if (op === 'toggle') {
        if (c.playing) stop();
        else start();
      } else if (op === 'play') start();
      else if (op === 'stop') stop();
      else {
        c.fps = op === 'faster' ? Math.min(60, c.fps < 5 ? c.fps + 1 : c.fps + 5) : Math.max(1, c.fps <= 5 ? c.fps - 1 : c.fps - 5);
        setCine({ playing: c.playing, fps: c.fps });
      }
    },
    [start, stop],
  );

  const setFps = useCallback((fps: number) => {
    const c = cineRef.current;
    c.fps = Math.max(1, Math.min(60, Math.round(fps)));
    setCine({ playing: c.playing, fps: c.fps });
  }, []);

  return { cine, command, setFps };
}
