/**
 * The two fields of a TLS ClientHello the proxy looks at before TLS starts:
 * the server name (SNI, RFC 6066 §3) and the ALPN protocols offered (RFC
 * 7301 §3.1), so that a CA's TLS-ALPN-01 validation (RFC 8737) can be told
 * apart from a visitor's handshake. The bytes are the peer's (a visitor, a
 * CA, anyone): read anchored at the first byte, every length checked
 * against what holds it, anything else refused. A refusal only means "not a
 * challenge": the caller hands the bytes on unchanged to node's TLS.
 * @module
 */

/** What the proxy needs from a ClientHello: the SNI host name (lower case) and the ALPN protocol names, in order. */
export interface ClientHello {
  serverName?: string;
  alpn?: string[];
}

/** The most ClientHello bytes read (a browser's, post-quantum key shares included, is under 2 KiB). */
export const MAX_CLIENT_HELLO = 16_384;
/** RFC 8446 §5.1: a record's fragment is at most 2^14 bytes. */
const MAX_FRAGMENT = 16_384;
/** The most records a ClientHello may be split into (clients send it in one; RFC 8446 allows it in several). */
export const MAX_RECORDS = 4;
/** The most bytes read before giving up on finding a ClientHello: its limit, in its most records. */
export const MAX_CLIENT_HELLO_BYTES = MAX_CLIENT_HELLO + 4 + MAX_RECORDS * 5;
const RECORD_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
const EXTENSION_SERVER_NAME = 0;
const EXTENSION_ALPN = 16;
/** A DNS host name as SNI carries it (RFC 6066 §3: no trailing dot, no IP literal): LDH labels. */
const HOST_NAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Parses the ClientHello at the start of `bytes` (TLS records as received).
 * Returns the hello, "more" while a valid hello may still be arriving, or
 * the rule it breaks.
 *
 * @example
 * parseClientHello(firstBytes) // { serverName: "1001.relay.example.com", alpn: ["acme-tls/1"] }
 */
export function parseClientHello(bytes: Buffer): ClientHello | "more" | string {
  const message = reassemble(bytes);
  if (typeof message === "string") return message;
  return readHello(message);
}

/** Joins the handshake records' fragments until the first handshake message is whole (RFC 8446 §5.1), and returns its body. */
function reassemble(bytes: Buffer): Buffer | "more" | string {
  const fragments: Buffer[] = [];
  let held = 0;
  let size = -1;
  for (let at = 0; ;) {
    if (bytes.length - at < 5) return "more";
    if (bytes[at] !== RECORD_HANDSHAKE) return `not a TLS handshake record (content type ${bytes[at]}; RFC 8446 §5.1)`;
    if (bytes[at + 1] !== 3) return "not a TLS record version 3.x (RFC 8446 §5.1: legacy_record_version)";
    const length = bytes.readUInt16BE(at + 3);
    if (length === 0) return "an empty handshake fragment (RFC 8446 §5.1)";
    if (length > MAX_FRAGMENT) return `a record of ${length} bytes, over 2^14 (RFC 8446 §5.1)`;
    if (fragments.length === MAX_RECORDS) return `a ClientHello in more than ${MAX_RECORDS} records, petit's limit`;
    if (bytes.length - at - 5 < length) return "more";
    fragments.push(bytes.subarray(at + 5, at + 5 + length));
    held += length;
    at += 5 + length;
    if (size < 0 && held >= 4) {
      const head = fragments.length === 1 ? fragments[0] : Buffer.concat(fragments, 4);
      if (head[0] !== HANDSHAKE_CLIENT_HELLO) return `the first handshake message is type ${head[0]}, not client_hello (RFC 8446 §4)`;
      size = head.readUIntBE(1, 3);
      if (size > MAX_CLIENT_HELLO) return `a ClientHello of ${size} bytes, over petit's ${MAX_CLIENT_HELLO}`;
    }
    // Whatever follows the ClientHello (a next record, early data) is TLS's to read, not petit's.
    if (size >= 0 && held >= 4 + size) return (fragments.length === 1 ? fragments[0] : Buffer.concat(fragments)).subarray(4, 4 + size);
  }
}

/** Reads a ClientHello body (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2) down to its extensions. */
function readHello(body: Buffer): ClientHello | string {
  // legacy_version (2) and random (32).
  let at = 34;
  if (body.length < at + 1) return "a ClientHello shorter than its fixed fields (RFC 8446 §4.1.2)";
  const sessionId = body[at];
  if (sessionId > 32) return `a legacy_session_id of ${sessionId} bytes, over 32 (RFC 8446 §4.1.2)`;
  at += 1 + sessionId;
  if (body.length < at + 2) return "a ClientHello that ends before cipher_suites (RFC 8446 §4.1.2)";
  const suites = body.readUInt16BE(at);
  if (suites < 2 || suites % 2) return `cipher_suites of ${suites} bytes, not an even number from 2 (RFC 8446 §4.1.2)`;
  at += 2 + suites;
  if (body.length < at + 1) return "a ClientHello that ends before legacy_compression_methods (RFC 8446 §4.1.2)";
  const methods = body[at];
  if (methods < 1) return "no legacy_compression_methods (RFC 8446 §4.1.2: at least one)";
  at += 1 + methods;
  if (body.length === at) return {};
  if (body.length < at + 2) return "a ClientHello that ends inside the extensions' length (RFC 8446 §4.1.2)";
  const extensions = body.readUInt16BE(at);
  at += 2;
  if (body.length !== at + extensions) return `extensions of ${extensions} bytes in ${body.length - at} left of the ClientHello (RFC 8446 §4.1.2)`;
  return readExtensions(body.subarray(at));
}

/** Reads the extension block: each type once (RFC 8446 §4.2), SNI and ALPN parsed, the others skipped by their length. */
function readExtensions(block: Buffer): ClientHello | string {
  const hello: ClientHello = {};
  const seen = new Set<number>();
  for (let at = 0; at < block.length;) {
    if (block.length - at < 4) return "an extension cut short in its header (RFC 8446 §4.2)";
    const type = block.readUInt16BE(at);
    const length = block.readUInt16BE(at + 2);
    at += 4;
    if (block.length - at < length) return `extension ${type} of ${length} bytes in ${block.length - at} left (RFC 8446 §4.2)`;
    if (seen.has(type)) return `extension ${type} twice (RFC 8446 §4.2: at most one of each type)`;
    seen.add(type);
    const data = block.subarray(at, at + length);
    at += length;
    if (type === EXTENSION_SERVER_NAME) {
      const name = readServerName(data);
      if (name.startsWith("!")) return name.slice(1);
      hello.serverName = name;
    } else if (type === EXTENSION_ALPN) {
      const names = readAlpn(data);
      if (typeof names === "string") return names;
      hello.alpn = names;
    }
  }
  return hello;
}

/** server_name (RFC 6066 §3): a ServerNameList of one host_name; returns it lower-cased, or "!" and the rule broken. */
function readServerName(data: Buffer): string {
  if (data.length < 2 || data.readUInt16BE(0) !== data.length - 2) return "!a server_name list whose length is not its extension's (RFC 6066 §3)";
  let name: string | undefined;
  for (let at = 2; at < data.length;) {
    if (data.length - at < 3) return "!a server_name entry cut short (RFC 6066 §3)";
    const type = data[at];
    const length = data.readUInt16BE(at + 1);
    at += 3;
    if (length < 1 || data.length - at < length) return `!a server_name of ${length} bytes in ${data.length - at} left (RFC 6066 §3)`;
    if (type === 0) {
      if (name !== undefined) return "!two host_name entries (RFC 6066 §3: at most one of each name_type)";
      name = data.toString("latin1", at, at + length).toLowerCase();
      if (!HOST_NAME.test(name)) return "!a host_name that is not a DNS name (RFC 6066 §3)";
    }
    at += length;
  }
  return name ?? "!a server_name list without a host_name (RFC 6066 §3)";
}

/** application_layer_protocol_negotiation (RFC 7301 §3.1): a ProtocolNameList of non-empty names. */
function readAlpn(data: Buffer): string[] | string {
  if (data.length < 2 || data.readUInt16BE(0) !== data.length - 2) return "an ALPN list whose length is not its extension's (RFC 7301 §3.1)";
  if (data.length < 4) return "an empty ALPN list (RFC 7301 §3.1: at least one protocol)";
  const names: string[] = [];
  for (let at = 2; at < data.length;) {
    const length = data[at];
    at += 1;
    if (length < 1 || data.length - at < length) return `an ALPN protocol of ${length} bytes in ${data.length - at} left (RFC 7301 §3.1)`;
    names.push(data.toString("latin1", at, at + length));
    at += length;
  }
  return names;
}
