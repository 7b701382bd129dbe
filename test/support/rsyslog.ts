/**
 * A real syslog collector for the ATNA tests: Debian's rsyslogd in the foreground with its own
 * configuration, listening on free loopback ports over UDP (imudp) and TLS (imtcp with the OpenSSL
 * stream driver, RFC 5425 octet counting), writing every message it receives to a file. The TLS
 * listener's certificate is signed by a throwaway CA made with the openssl CLI.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findRsyslogd } from '../../src/node/components';
import { tempDir } from './tmp';

export interface ReceivedSyslog {
  pri: number;
  version: number;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  /** The message body (after the structured data; a leading BOM removed). */
  msg: string;
  /** rsyslog's name for the input that received it: imudp or imtcp. */
  input: string;
}

export interface Rsyslog {
  udpPort: number;
  tlsPort: number;
  /** PEM file of the CA that signed the TLS listener's certificate. */
  caFile: string;
  /** Messages received so far. */
  messages(): ReceivedSyslog[];
  /** Waits until `n` messages (of those `which` accepts) arrived (polls the output file; bounded by `timeoutMs`). */
  waitFor(n: number, which?: (m: ReceivedSyslog) => boolean, timeoutMs?: number): Promise<ReceivedSyslog[]>;
  stop(): Promise<void>;
}

async function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

/** A throwaway CA and a server certificate for 127.0.0.1 / localhost signed by it. */
export function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=MedImgShr test syslog CA'], dir);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext'], dir);
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
}

const LINE = /^(\S+)\t<(\d{1,3})>(\d) (\S+) (\S+) (\S+) (\S+) (\S+) (?:-|\[.*?\]) ?(.*)$/;

/** Parses one line of the output file: "<input>\t<raw RFC 5424 message>". */
export function parseLine(line: string): ReceivedSyslog | null {
  const m = LINE.exec(line);
  if (!m) return null;
  return { input: m[1]!, pri: Number(m[2]), version: Number(m[3]), timestamp: m[4]!, hostname: m[5]!, appName: m[6]!, procId: m[7]!, msgId: m[8]!, msg: m[9]!.replace(/^\uFEFF/, '') };
}

function udpBound(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  try {
    return readFileSync('/proc/net/udp', 'utf8').split('\n').some((l) => l.includes(`:${hex} `) && l.includes('0100007F:'));
  } catch {
    return false;
  }
}

async function tcpOpen(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** Starts rsyslogd; throws when it cannot be started (callers check the component first). */
export async function startRsyslog(): Promise<Rsyslog> {
  const bin = findRsyslogd();
  if (!bin) throw new Error('rsyslogd not found: apt-get install rsyslog rsyslog-openssl');
  const dir = tempDir('medimg-rsyslog-');
  const certs = makeCertificates(dir.path);
  const [udpPort, tlsPort] = [await freeUdpPort(), await freeTcpPort()];
  const out = join(dir.path, 'received.log');
  writeFileSync(out, '');
  const conf = `
global(workDirectory="${dir.path}" maxMessageSize="64k"
       DefaultNetstreamDriver="ossl"
       DefaultNetstreamDriverCAFile="${certs.ca}"
       DefaultNetstreamDriverCertFile="${certs.cert}"
       DefaultNetstreamDriverKeyFile="${certs.key}")
module(load="imudp")
module(load="imtcp" StreamDriver.Name="ossl" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")
input(type="imudp" address="127.0.0.1" port="${udpPort}")
input(type="imtcp" address="127.0.0.1" port="${tlsPort}")
template(name="raw" type="string" string="%inputname%\\t%rawmsg%\\n")
action(type="omfile" file="${out}" template="raw")
`;
  const confFile = join(dir.path, 'rsyslog.conf');
  writeFileSync(confFile, conf);
  const stderr: string[] = [];
  const proc: ChildProcess = spawn(bin, ['-n', '-f', confFile, '-i', join(dir.path, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.on('data', (d: Buffer) => stderr.push(d.toString()));
  proc.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  let exited = false;
  proc.once('exit', () => (exited = true));
  const deadline = Date.now() + 20_000;
  while (!(udpBound(udpPort) && (await tcpOpen(tlsPort)))) {
    if (exited || Date.now() > deadline) {
      proc.kill('SIGKILL');
      dir.cleanup();
      throw new Error(`rsyslogd did not start listening: ${stderr.join('').trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  // Only whole lines: rsyslog writes the file in chunks, so the last line may still be half written when it is read.
  const messages = (): ReceivedSyslog[] =>
    (existsSync(out) ? readFileSync(out, 'utf8') : '')
      .split('\n')
      .slice(0, -1)
      .filter(Boolean)
      .map(parseLine)
      .filter((m): m is ReceivedSyslog => m !== null);
  return {
    udpPort,
    tlsPort,
    caFile: certs.ca,
    messages,
    async waitFor(n, which = () => true, timeoutMs = 20_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const got = messages().filter(which);
        if (got.length >= n || Date.now() > end) return got;
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      if (!exited) {
        const gone = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await gone;
      }
      dir.cleanup();
    },
  };
}
