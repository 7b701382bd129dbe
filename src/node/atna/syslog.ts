/**
 * Syslog framing for audit messages: RFC 5424 messages (IHE ITI-20), sent as one UDP datagram each
 * (RFC 5426) or octet-counted over TLS (RFC 5425: "MSG-LEN SP SYSLOG-MSG"). Pure.
 */

/** facility 10 (security/authorization), severity 5 (notice): what IHE ATNA recommends for audit records. */
export const ATNA_PRI = 10 * 8 + 5;
/** IHE ITI-20's MSGID for audit messages. */
export const ATNA_MSGID = 'IHE+RFC-3881';
const BOM = '\uFEFF';

/** RFC 5424 header fields are printable US-ASCII without spaces, limited in length; NILVALUE when empty. */
function field(s: string | null | undefined, max: number): string {
  const v = (s ?? '').replace(/[^\x21-\x7E]/g, '_').slice(0, max);
  return v || '-';
}

export interface SyslogHeader {
  /** RFC 3339 time with fraction and zone. */
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string | number;
  msgId?: string;
  pri?: number;
}

/** One RFC 5424 SYSLOG-MSG: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - BOM MSG`. */
export function syslogMessage(h: SyslogHeader, msg: string): string {
  return `<${h.pri ?? ATNA_PRI}>1 ${field(h.timestamp, 64)} ${field(h.hostname, 255)} ${field(h.appName, 48)} ${field(String(h.procId), 128)} ${field(h.msgId ?? ATNA_MSGID, 32)} - ${BOM}${msg}`;
}

/** RFC 5425 octet counting: the byte length of the message, a space, the message. */
export function octetCounted(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}
