/**
 * A parser for the PROXY protocol header (HAProxy's proxy-protocol.txt,
 * versions 1 and 2), which a load balancer sends before the first byte of a
 * connection to name the visitor it accepted. The text is the balancer's,
 * but it is read anchored and whole, with a hard limit on every length, as
 * if anyone could have written it.
 * @module
 */
import { isIPv4, isIPv6 } from "node:net";

/** What a header said: its length in bytes and the visitor's address (undefined: LOCAL, UNKNOWN, AF_UNIX, AF_UNSPEC). */
export interface ProxyHeader {
  length: number;
  source: string | undefined;
}

/** The longest version-1 header, CRLF included (spec §2.1: 107 bytes). */
export const MAX_V1_LENGTH = 107;
/** The longest version-2 header petit accepts: 16 fixed bytes plus addresses and TLVs (spec §2.2 allows 64 KiB; balancers send far less). */
export const MAX_V2_LENGTH = 16 + 1024;

const V1_PREFIX = Buffer.from("PROXY ", "latin1");
/** The version-2 signature (spec §2.2). */
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/**
 * Parses the header at the start of `data`: a ProxyHeader once it is whole,
 * "more" while it may still arrive, or a string saying why it is refused.
 * @example parseProxyHeader(Buffer.from("PROXY TCP4 203.0.113.7 10.0.0.1 5123 80\r\nGET /")) // { length: 41, source: "203.0.113.7" }
 */
export function parseProxyHeader(data: Buffer): ProxyHeader | "more" | string {
  if (data.length === 0) return "more";
  if (data[0] === 0x50) return parseV1(data);
  if (data[0] === 0x0d) return parseV2(data);
  return "the connection does not begin with a PROXY protocol header";
}

/** Version 1: "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n" or "PROXY UNKNOWN…\r\n", single spaces, nothing else. */
function parseV1(data: Buffer): ProxyHeader | "more" | string {
  const prefix = Math.min(data.length, V1_PREFIX.length);
  if (!data.subarray(0, prefix).equals(V1_PREFIX.subarray(0, prefix))) return 'a version-1 header must begin with "PROXY "';
  const end = data.indexOf("\r\n", 0, "latin1");
  if (end < 0 || end + 2 > MAX_V1_LENGTH) {
    return data.length < MAX_V1_LENGTH ? "more" : `a version-1 header must end with CRLF within ${MAX_V1_LENGTH} bytes`;
  }
  const length = end + 2;
  const fields = data.toString("latin1", V1_PREFIX.length, end).split(" ");
  // §2.1: UNKNOWN may be followed by anything up to the CRLF; the receiver uses the real connection's addresses.
  if (fields[0] === "UNKNOWN") return { length, source: undefined };
  if (fields.length !== 5) return "a version-1 header must have exactly five fields after PROXY";
  const [family, source, destination, sourcePort, destinationPort] = fields;
  const valid = family === "TCP4" ? isIPv4 : family === "TCP6" ? isIPv6 : undefined;
  if (!valid) return `a version-1 header names family "${family.slice(0, 10)}", not TCP4, TCP6 or UNKNOWN`;
  if (!valid(source) || !valid(destination)) return `a version-1 header's addresses must both be ${family} addresses`;
  if (!isPort(sourcePort) || !isPort(destinationPort)) return "a version-1 header's ports must be numbers from 0 to 65535 without leading zeros";
  return { length, source };
}

function isPort(text: string): boolean {
  return /^(?:0|[1-9]\d{0,4})$/.test(text) && Number(text) <= 65535;
}

/** Version 2: signature, version/command, family/transport, 16-bit length, addresses, TLVs (ignored). */
function parseV2(data: Buffer): ProxyHeader | "more" | string {
  const prefix = Math.min(data.length, V2_SIGNATURE.length);
  if (!data.subarray(0, prefix).equals(V2_SIGNATURE.subarray(0, prefix))) return "a version-2 header must begin with its 12-byte signature";
  if (data.length < 16) return "more";
  const version = data[12] >> 4;
  const command = data[12] & 0x0f;
  if (version !== 2) return `a version-2 header names version ${version}, not 2`;
  if (command > 1) return `a version-2 header names command ${command}, not LOCAL (0) or PROXY (1)`;
  const length = 16 + data.readUInt16BE(14);
  if (length > MAX_V2_LENGTH) return `a version-2 header of ${length} bytes is longer than the ${MAX_V2_LENGTH} petit accepts`;
  if (data.length < length) return "more";
  // LOCAL: the balancer's own connection (a health check); its addresses, if any, are ignored (§2.2).
  if (command === 0) return { length, source: undefined };
  const family = data[13] >> 4;
  const transport = data[13] & 0x0f;
  if (transport > 2) return `a version-2 header names transport ${transport}, not UNSPEC, STREAM or DGRAM`;
  switch (family) {
    case 0x0: // AF_UNSPEC
    case 0x3: // AF_UNIX
      return { length, source: undefined };
    case 0x1:
      if (length < 16 + 12) return "a version-2 AF_INET header is shorter than its 12 address bytes";
      return { length, source: `${data[16]}.${data[17]}.${data[18]}.${data[19]}` };
    case 0x2: {
      if (length < 16 + 36) return "a version-2 AF_INET6 header is shorter than its 36 address bytes";
      const groups: string[] = [];
      for (let i = 0; i < 8; i++) groups.push(data.readUInt16BE(16 + 2 * i).toString(16));
      return { length, source: groups.join(":") };
    }
    default:
      return `a version-2 header names address family ${family}, not UNSPEC, INET, INET6 or UNIX`;
  }
}
