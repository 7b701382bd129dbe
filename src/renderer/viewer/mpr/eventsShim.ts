/**
 * The one piece of Node's `events` that vtk.js's XML reader (through xmlbuilder2) needs at module
 * load: a class to extend. Cornerstone3D's core imports that reader for meshes; MPR never parses
 * XML, but without a class here the bundle throws "Class extends value undefined" on start.
 */
type Listener = (...args: unknown[]) => void;

export class EventEmitter {
  private readonly listeners = new Map<string | symbol, Listener[]>();
  on(event: string | symbol, fn: Listener): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), fn]);
    return this;
  }
  addListener(event: string | symbol, fn: Listener): this {
    return this.on(event, fn);
  }
  off(event: string | symbol, fn: Listener): this {
    this.listeners.set(event, (this.listeners.get(event) ?? []).filter((f) => f !== fn));
    return this;
  }
  removeListener(event: string | symbol, fn: Listener): this {
    return this.off(event, fn);
  }
  once(event: string | symbol, fn: Listener): this {
    const once: Listener = (...a) => {
      this.off(event, once);
      fn(...a);
    };
    return this.on(event, once);
  }
  emit(event: string | symbol, ...args: unknown[]): boolean {
    const fns = this.listeners.get(event) ?? [];
    for (const f of [...fns]) f(...args);
    return fns.length > 0;
  }
}

export default EventEmitter;
