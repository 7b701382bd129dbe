/**
 * Sends syslog messages to one collector without ever blocking or failing the caller: messages go
 * into a bounded queue and a pump delivers them in order; a message that cannot be delivered is
 * retried (after `retryMs`) and dropped with a counted warning after `maxAttempts` failures. A full
 * queue drops its oldest message (counted too). Over UDP a datagram is "delivered" once the OS
 * accepted it (UDP has no acknowledgement); over TLS once it was written to a verified connection.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { octetCounted } from './syslog';

export type SyslogTransport = 'udp' | 'tls';

export interface CollectorTarget {
  host: string;
  port: number;
  transport: SyslogTransport;
  /** PEM of the CA that signed the collector's certificate (TLS). */
  caPem?: string | null;
}

export interface SenderStatus {
  state: 'idle' | 'sending' | 'retrying' | 'failing';
  queued: number;
  sent: number;
  dropped: number;
  failures: number;
  lastError: string | null;
  lastSentAt: string | null;
}

export interface SenderOptions {
  maxQueue?: number;
  maxAttempts?: number;
  retryMs?: number;
  connectTimeoutMs?: number;
  warn?: (message: string, data?: Record<string, unknown>) => void;
}

interface Item {
  message: string;
  attempts: number;
}

export class SyslogSender {
  private readonly queue: Item[] = [];
  private pumping = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private udp: UdpSocket | null = null;
  private tls: TLSSocket | null = null;
  private readonly st: SenderStatus = { state: 'idle', queued: 0, sent: 0, dropped: 0, failures: 0, lastError: null, lastSentAt: null };
  private readonly opts: Required<Omit<SenderOptions, 'warn'>> & Pick<SenderOptions, 'warn'>;
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly target: CollectorTarget,
    opts: SenderOptions = {},
  ) {
    this.opts = { maxQueue: opts.maxQueue ?? 1000, maxAttempts: opts.maxAttempts ?? 5, retryMs: opts.retryMs ?? 5000, connectTimeoutMs: opts.connectTimeoutMs ?? 5000, warn: opts.warn };
  }

  status(): SenderStatus {
    return { ...this.st, queued: this.queue.length };
  }

  /** Queues a message; never throws. */
  send(message: string): void {
    if (this.closed) return;
    if (this.queue.length >= this.opts.maxQueue) {
      this.queue.shift();
      this.drop('the queue was full');
    }
    this.queue.push({ message, attempts: 0 });
    this.kick();
  }

  /** Resolves when the queue is empty or waiting for a retry (tests, shutdown). */
  settled(): Promise<void> {
    if (!this.pumping && (this.queue.length === 0 || this.timer)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private drop(why: string): void {
    this.st.dropped++;
    this.opts.warn?.(`audit syslog message dropped (${why}); ${this.st.dropped} dropped so far`, { collector: `${this.target.transport}://${this.target.host}:${this.target.port}` });
  }

  private kick(): void {
    if (this.pumping || this.timer || this.closed) return;
    this.pumping = true;
    void this.pump();
  }

  private async pump(): Promise<void> {
    this.st.state = 'sending';
    while (this.queue.length > 0 && !this.closed) {
      const item = this.queue[0]!;
      try {
        await this.deliver(item.message);
        this.queue.shift();
        this.st.sent++;
        this.st.lastSentAt = new Date().toISOString();
        this.st.lastError = null;
        this.st.failures = 0;
      } catch (err) {
        item.attempts++;
        this.st.failures++;
        this.st.lastError = err instanceof Error ? err.message : String(err);
        this.resetTls();
        if (item.attempts >= this.opts.maxAttempts) {
          this.queue.shift();
          this.drop(`${item.attempts} attempts failed: ${this.st.lastError}`);
          continue;
        }
        this.st.state = 'retrying';
        this.timer = setTimeout(() => {
          this.timer = null;
          this.kick();
        }, this.opts.retryMs);
        this.timer.unref();
        break;
      }
    }
    this.pumping = false;
    if (this.queue.length === 0) this.st.state = this.st.failures > 0 ? 'failing' : 'idle';
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private deliver(message: string): Promise<void> {
    return this.target.transport === 'udp' ? this.deliverUdp(message) : this.deliverTls(message);
  }

  private deliverUdp(message: string): Promise<void> {
    if (!this.udp) {
      this.udp = createSocket(this.target.host.includes(':') ? 'udp6' : 'udp4');
      this.udp.on('error', (err) => {
        this.st.lastError = err.message;
      });
      this.udp.unref();
    }
    const body = Buffer.from(message, 'utf8');
    return new Promise((resolve, reject) => this.udp!.send(body, this.target.port, this.target.host, (err) => (err ? reject(err) : resolve())));
  }

  private async tlsSocket(): Promise<TLSSocket> {
    if (this.tls && !this.tls.destroyed && this.tls.writable) return this.tls;
    const { host, port, caPem } = this.target;
    const sock = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ host, port, ca: caPem ? [caPem] : undefined, servername: /^[\d.]+$|:/.test(host) ? undefined : host, rejectUnauthorized: true });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`no TLS connection to ${host}:${port} within ${this.opts.connectTimeoutMs} ms`));
      }, this.opts.connectTimeoutMs);
      s.once('secureConnect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    sock.on('error', (err) => {
      this.st.lastError = err.message;
      sock.destroy();
    });
    sock.on('close', () => {
      if (this.tls === sock) this.tls = null;
    });
    sock.unref();
    this.tls = sock;
    return sock;
  }

  private async deliverTls(message: string): Promise<void> {
    const sock = await this.tlsSocket();
    await new Promise<void>((resolve, reject) => {
      sock.write(octetCounted(message), (err) => (err ? reject(err) : resolve()));
    });
  }

  private resetTls(): void {
    this.tls?.destroy();
    this.tls = null;
  }

  /** Stops the pump; messages still queued are counted as dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.race([this.settled(), new Promise((r) => setTimeout(r, 2000).unref())]);
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (let i = this.queue.length; i > 0; i--) this.drop('the app closed before it could be sent');
    this.queue.length = 0;
    this.resetTls();
    this.udp?.close();
    this.udp = null;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
