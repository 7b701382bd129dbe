/** Progress of the one task of a kind a dialog or notice started (progress events pushed by the main process); shared by trust, PACS, AI and the viewer's prior notice. */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ProgressEvent } from '../../shared/api';
import { bridge, call } from '../bridge';

export function useTaskProgress(kind: string, running: boolean) {
  const [progress, setProgress] = useState<ProgressEvent | null>(null);
  const taskId = useRef<string | null>(null);
  useEffect(() => {
    if (!running) return;
    taskId.current = null;
    setProgress(null);
    return bridge().on((e) => {
      if (e.type !== 'progress' || e.kind !== kind) return;
      if (taskId.current && e.taskId !== taskId.current) return;
      taskId.current = e.taskId;
      setProgress(e);
    });
  }, [kind, running]);
  const cancel = useCallback(() => {
    if (taskId.current) void call('task.cancel', { taskId: taskId.current }).catch(() => undefined);
  }, []);
  return { progress, cancel };
}

export function ProgressBar({ progress, label }: { progress: ProgressEvent | null; label: string }) {
  const total = progress?.total ?? null;
  const done = progress?.done ?? 0;
  const pct = total ? Math.min(100, Math.round((done / total) * 100)) : null;
  return (
    <div className="tprogress" data-testid="task-progress">
      <div className="tprogress__bar" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={total ?? undefined} aria-valuenow={done}>
        <div className={`tprogress__fill${pct === null ? ' tprogress__fill--busy' : ''}`} style={{ width: pct === null ? '30%' : `${pct}%` }} />
      </div>
      <div className="tprogress__text">
        {progress?.label ?? label}
        {total ? ` · ${done} of ${total}` : ''}
        {progress?.failed ? ` · ${progress.failed} failed` : ''}
      </div>
    </div>
  );
}
