/** A tiny external store for useSyncExternalStore. */
export class Store<T> {
  private listeners = new Set<() => void>();
  constructor(private value: T) {}
  get = (): T => this.value;
  set(next: T | ((prev: T) => T)): void {
    this.value = typeof next === 'function' ? (next as (p: T) => T)(this.value) : next;
    for (const l of [...this.listeners]) l();
  }
  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };
}
