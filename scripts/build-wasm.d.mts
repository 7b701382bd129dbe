/** Types of build-wasm.mjs (imported by its unit test). */
export function compileWat(source: string, name?: string): Promise<Uint8Array>;
export function moduleSource(bytes: Uint8Array): string;
