import { useEffect, useState } from 'react';
import { onRenderModeChange, renderMode, type StackRenderMode } from './cornerstone';

/** How stacks render now ('gpu' or 'cpu' with its reason); follows a lost WebGL context. */
export function useRenderMode(): StackRenderMode {
  const [mode, setMode] = useState(renderMode);
  useEffect(() => onRenderModeChange(() => setMode(renderMode())), []);
  return mode;
}
