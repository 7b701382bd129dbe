/** xhr2 ships no types; the DICOMweb client uses this much of it (an XMLHttpRequest for Node). */
declare module 'xhr2' {
  import type { Agent as HttpAgent } from 'node:http';
  import type { Agent as HttpsAgent } from 'node:https';
  class XMLHttpRequest extends EventTarget {
    timeout: number;
    readonly status: number;
    abort(): void;
    nodejsSet(options: { httpAgent?: HttpAgent; httpsAgent?: HttpsAgent; baseUrl?: string }): void;
  }
  export default XMLHttpRequest;
}
