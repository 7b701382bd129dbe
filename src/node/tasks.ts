import { randomUUID } from 'node:crypto';
import type { ProgressEvent } from '../shared/api';
import { AppError, ErrorCode } from '../shared/errors';

/**
 * Long-running, cancellable work (import, fingerprinting, anchoring, export) with progress
 * events. Progress is throttled so a fast loop does not flood the bridge.
 */
export class Task {
  readonly id = randomUUID();
  readonly startedAt = Date.now();
  done = 0;
  failed = 0;
  label: string | null = null;
  private readonly controller = new AbortController();
  private lastEmit = 0;

  constructor(
    readonly kind: string,
    public total: number | null,
    private readonly emit: (e: ProgressEvent) => void,
    private readonly throttleMs = 100,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }
  get cancelled(): boolean {
    return this.controller.signal.aborted;
  }
  cancel(): void {
    this.controller.abort();
  }
  /** Throws a CANCELLED AppError if the user cancelled; call between items. */
  throwIfCancelled(): void {
    if (this.cancelled) throw new AppError(ErrorCode.Cancelled, `${this.kind} was cancelled.`);
  }

  /** Report progress: `done`/`failed` are absolute counts. */
  progress(update: { done?: number; failed?: number; total?: number | null; label?: string | null }, force = false): void {
    if (update.done !== undefined) this.done = update.done;
    if (update.failed !== undefined) this.failed = update.failed;
    if (update.total !== undefined) this.total = update.total;
    if (update.label !== undefined) this.label = update.label;
    const now = Date.now();
    if (!force && now - this.lastEmit < this.throttleMs) return;
    this.lastEmit = now;
    this.emit(this.snapshot(false));
  }

  finish(): void {
    this.emit(this.snapshot(true));
  }

  snapshot(finished: boolean): ProgressEvent {
    const seconds = (Date.now() - this.startedAt) / 1000;
    return {
      type: 'progress',
      taskId: this.id,
      kind: this.kind,
      done: this.done,
      total: this.total,
      failed: this.failed,
      rate: seconds > 0 ? this.done / seconds : null,
      label: this.label,
      finished,
    };
  }
}

export class TaskRegistry {
  private readonly running = new Map<string, Task>();
  constructor(private readonly emit: (e: ProgressEvent) => void) {}

  /** Runs `work` as a task; the task is removed and a final event sent however it ends. */
  async run<T>(kind: string, total: number | null, work: (task: Task) => Promise<T>, onStart?: (task: Task) => void): Promise<T> {
    const task = new Task(kind, total, this.emit);
    this.running.set(task.id, task);
    onStart?.(task);
    try {
      return await work(task);
    } finally {
      this.running.delete(task.id);
      task.finish();
    }
  }

  cancel(taskId: string): boolean {
    const t = this.running.get(taskId);
    if (!t) return false;
    t.cancel();
    return true;
  }

  list(): Task[] {
    return [...this.running.values()];
  }
}
