/**
 * Raw HTTP requests a relay must refuse: broken registrations for the API
 * (each either with a valid proof and a body that must not register, or with
 * a broken proof) and malformed requests to hosts that do not exist for the
 * proxy. Built from a seeded Rng, so a run can be replayed.
 * @module
 */
import { makeProof } from "../../lib/proof.ts";
import { SIGNATURE_HEADER } from "../../lib/constants.ts";
import { registrationSignature } from "./signing-keys.ts";
import { badKeyText, badName, insertAt, keyLine, type Rng } from "./fuzz.ts";

/** One generated input: what kind it is (for reports), its bytes, and how to end the connection. */
export interface FuzzInput {
  kind: string;
  bytes: Buffer;
  /** Reset the connection this many ms after writing (or at the answer's first byte) instead of half-closing it. */
  abort: number | false;
  /** Set for a well-framed request with a valid proof: sending it again must be refused as a replay. */
  replayable?: boolean;
}

/** With probability `p`, a delay after which the connection is reset; else false. */
function maybeAbort(rng: Rng, p: number): number | false {
  return rng.chance(p) ? rng.pick([0, 0, 1, 2, 5, 20]) : false;
}

const INSERTS = ['"', "\n", "\0", "\\", "\\u0000", "{", "[", ":", ",", "é", "\u2028", "\uFEFF", "𝕏", "\ud800", "}", "]"];

/** Applies 1-3 byte-level mutations: flips, truncation, duplication, insertions. */
export function mutate(rng: Rng, input: Buffer): Buffer {
  let out = Buffer.from(input);
  for (let n = 1 + rng.int(3); n > 0; n--) {
    const at = rng.int(out.length + 1);
    switch (rng.int(4)) {
      case 0: if (out.length) out[Math.min(at, out.length - 1)] ^= 1 << rng.int(8); break;
      case 1: out = out.subarray(0, at); break;
      case 2: { const end = Math.min(out.length, at + 1 + rng.int(64)); out = Buffer.concat([out.subarray(0, end), out.subarray(at, end), out.subarray(end)]); break; }
      default: out = Buffer.concat([out.subarray(0, at), Buffer.from(rng.pick(INSERTS)), out.subarray(at)]);
    }
  }
  return out;
}

/**
 * Tells whether `text` parses to what could be a registration: an object of
 * a string public_key, maybe a string name and maybe a list of tunnels.
 */
function plausible(text: string): boolean {
  let data: unknown;
  try { data = JSON.parse(text); } catch { return false; }
  if (typeof data !== "object" || data === null || Array.isArray(data)) return false;
  const { public_key, name, tunnels, ...rest } = data as Record<string, unknown>;
  return Object.keys(rest).length === 0 && typeof public_key === "string" &&
    (name === undefined || typeof name === "string") && (tunnels === undefined || Array.isArray(tunnels));
}

/** A tunnels list that must be refused: not a list, too long, a bad or repeated name, the client's own or a taken name. */
function badTunnels(rng: Rng, name: string, takenName: string): unknown {
  const ok = () => `fzt${rng.int(1e6)}`;
  return rng.pick<() => unknown>([
    () => rng.pick([5, "x", {}, null, true]),
    () => Array.from({ length: 17 + rng.int(40) }, ok),
    () => [ok(), badName(rng)],
    () => [rng.pick([5, null, {}, []])],
    () => { const t = ok(); return [t, t]; },
    () => [name],
    () => [ok(), takenName],
  ])();
}

function deep(rng: Rng): string {
  const depth = 1 + rng.int(10_000); // '{"a":' and '}' × 10,000 still fit in the 64 KiB limit
  return rng.chance(0.5) ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
}

/**
 * A body that must not register a client (with a valid proof), or any body
 * with `proof: false` (its proof will be broken). `takenName` is held by
 * another client.
 */
function apiBody(rng: Rng, takenName: string): { kind: string; body: string | Buffer; proof: boolean } {
  const key = keyLine(rng);
  const roll = rng.int(100);
  if (roll < 30) {
    const valid = rng.pick([{ public_key: key }, { public_key: key, name: `fz${rng.int(1e6)}` }, { public_key: key, tunnels: [`fzt${rng.int(1e6)}`] }]);
    const base = Buffer.from(JSON.stringify(valid));
    const body = mutate(rng, base);
    // A mutation can leave a valid registration (a flip inside the key bytes is another valid key): break its key.
    if (!plausible(body.toString("utf8"))) return { kind: "mutated-json", body, proof: true };
    return { kind: "mutated-json+bad-key", body: JSON.stringify({ ...JSON.parse(body.toString("utf8")), public_key: badKeyText(rng) }), proof: true };
  }
  if (roll < 50) {
    const body = rng.chance(0.7) ? { public_key: badKeyText(rng) } : { public_key: badKeyText(rng), name: `fz${rng.int(1e6)}` };
    return { kind: "bad-key", body: JSON.stringify(body), proof: true };
  }
  if (roll < 58) return { kind: "bad-name", body: JSON.stringify({ public_key: key, name: badName(rng) }), proof: true };
  if (roll < 60) return { kind: "taken-name", body: JSON.stringify({ public_key: key, name: takenName }), proof: true };
  if (roll < 63) {
    const name = `fz${rng.int(1e6)}`;
    return { kind: "bad-tunnels", body: JSON.stringify({ public_key: key, name, tunnels: badTunnels(rng, name, takenName) }), proof: true };
  }
  if (roll < 65) {
    const field = rng.pick(["id", "port", "access", "__proto__", "constructor", "Public_Key", "public_key ", "", "x".repeat(rng.int(3000))]);
    return { kind: "unknown-field", body: `{"public_key":${JSON.stringify(key)},${JSON.stringify(field)}:${rng.pick(["1", "[]", "{}", "null", '"x"'])}}`, proof: true };
  }
  if (roll < 70) {
    const wrong = rng.pick(["5", "null", "true", "[]", "{}", "-0", "1e999", JSON.stringify([key]), JSON.stringify({ key })]);
    const body = rng.chance(0.5) ? `{"public_key":${wrong}}` : `{"public_key":${JSON.stringify(key)},"name":${wrong}}`;
    return { kind: "wrong-type", body, proof: true };
  }
  if (roll < 74) return { kind: "not-object", body: rng.pick(["[]", "5", "null", "true", '"x"', "", " ", JSON.stringify([{ public_key: key }]), "\uFEFF{}"]), proof: true };
  if (roll < 78) return { kind: "deep", body: rng.chance(0.5) ? deep(rng) : `{"public_key":${deep(rng)}}`, proof: true };
  if (roll < 82) {
    const huge = "A".repeat(16_385 + rng.int(45_000));
    return { kind: "huge-string", body: rng.pick([`{"public_key":"${huge}"}`, `{"public_key":${JSON.stringify(key)},"name":"${huge}"}`, `{"${huge}":1}`]), proof: true };
  }
  // Any body, even a valid registration: the proof will be broken.
  return { kind: "broken-proof", body: JSON.stringify(rng.chance(0.5) ? { public_key: key } : { public_key: key, name: `fz${rng.int(1e6)}` }), proof: false };
}

/** A proof header that must not be accepted for `body`, or undefined for none at all. */
function brokenProof(rng: Rng, token: string, body: string): string | undefined {
  const good = makeProof(token, body);
  const flip = (text: string, at: number) => insertAt(text.slice(0, at) + text.slice(at + 1), at, text[at] === "0" ? "1" : "0");
  const now = Date.now();
  return rng.pick<() => string | undefined>([
    () => undefined,
    () => "",
    () => rng.bytes(rng.int(200)).toString("latin1").replace(/[\r\n\0]/g, "x"),
    () => makeProof(token === "wrong" ? "wrong2" : "wrong", body),
    () => flip(good, good.length - 1 - rng.int(64)),
    () => makeProof(token, body, now - (301 + rng.int(100_000)) * 1000),
    () => makeProof(token, body, now + (301 + rng.int(100_000)) * 1000),
    () => makeProof(`zz${rng.int(1e6)}.${"ab".repeat(24)}`, body),
    () => makeProof(token, body + " "),
    () => good.toUpperCase(),
    () => `${good}, ${good}`,
    () => good.replace(/^(k=[^,]*,)?/, "k=../../x,"),
  ])();
}

/** Returns a request to the registration API that the relay must refuse. */
export function apiRequest(rng: Rng, options: { token: string; takenName: string }): FuzzInput {
  const roll = rng.int(100);
  if (roll < 6) {
    const line = rng.pick(["GET /v1/register", "PUT /v1/register", "DELETE /v1/register", "POST /v1/register/", "POST /V1/register",
      "POST /v1/register?x=1", "POST //v1/register", "POST /v1/../v1/register", "POST *", "POST /v1/health", "OPTIONS *", "GET /v1/healthz"]);
    return { kind: "api-wrong-route", bytes: Buffer.from(`${line} HTTP/1.1\r\nHost: relay\r\nContent-Length: 2\r\n\r\n{}`), abort: false };
  }
  if (roll < 9) return { kind: "api-random-bytes", bytes: rng.bytes(1 + rng.int(2000)), abort: maybeAbort(rng, 0.2) };
  if (roll < 10) {
    const size = 65_537 + rng.int(1_000_000);
    const head = `POST /v1/register HTTP/1.1\r\nHost: relay\r\nx-petit-proof: ${makeProof(options.token, "x")}\r\n`;
    const chunked = rng.chance(0.3);
    const framing = chunked ? `Transfer-Encoding: chunked\r\n\r\n${size.toString(16)}\r\n` : `Content-Length: ${size}\r\n\r\n`;
    const bytes = Buffer.concat([Buffer.from(head + framing), Buffer.alloc(size, 0x41), Buffer.from(chunked ? "\r\n0\r\n\r\n" : "")]);
    return { kind: chunked ? "api-oversize-chunked" : "api-oversize", bytes, abort: false };
  }
  const { kind, body, proof } = apiBody(rng, options.takenName);
  const bytes = Buffer.from(body);
  const text = bytes.toString("utf8"); // what the relay hashes
  const header = proof ? makeProof(options.token, text) : brokenProof(rng, options.token, text);
  // Bodies sent with a good proof are signed too, so the relay's body checks (not the signature's) are what refuses them.
  const signature = proof && header ? registrationSignature(text, header) : undefined;
  const head = `POST /v1/register HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n${header === undefined ? "" : `x-petit-proof: ${header}\r\n`}` +
    (signature ? `${SIGNATURE_HEADER}: ${signature}\r\n` : "");
  const framing = rng.int(100);
  if (framing < 75) {
    const request = Buffer.concat([Buffer.from(`${head}Content-Length: ${bytes.length}\r\n\r\n`), bytes]);
    if (framing < 5) return { kind: `${kind}+pipelined-twice`, bytes: Buffer.concat([request, request]), abort: false };
    const abort = maybeAbort(rng, 0.05);
    return { kind, bytes: request, abort, replayable: proof && abort === false };
  }
  if (framing < 85) {
    const size = bytes.length.toString(16);
    const chunk = rng.chance(0.7) ? size : rng.pick(["zz", "-1", "fffffffffffffffffff", `${size};x=\0`, (bytes.length + 9).toString(16)]);
    const request = [Buffer.from(`${head}Transfer-Encoding: chunked\r\n\r\n${chunk}\r\n`), bytes, Buffer.from("\r\n0\r\n\r\n")];
    return { kind: `${kind}+chunked`, bytes: Buffer.concat(request), abort: false };
  }
  const length = rng.pick([
    String(Math.max(0, bytes.length - 1 - rng.int(10))), String(bytes.length + 1 + rng.int(100)), "-1", "abc",
    "99999999999999999999", `${bytes.length}, ${bytes.length + 1}`,
  ]);
  const conflict = rng.chance(0.3) ? "Transfer-Encoding: chunked\r\n" : "";
  const request = Buffer.concat([Buffer.from(`${head}Content-Length: ${length}\r\n${conflict}\r\n`), bytes]);
  return { kind: `${kind}+bad-length`, bytes: rng.chance(0.3) ? request.subarray(0, rng.int(request.length)) : request, abort: false };
}

const METHODS = ["GET", "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "TRACE", "CONNECT", "CONNECT", "CONNECT"];
const BAD_METHODS = ["PRI", "FOO", "get", "G\0T", "GE T", "", "M-SEARCH", "X".repeat(300), "\x16\x03\x01"];
const TARGETS = ["/", "/x?y=1", "*", "//", "/%00", "/a/../../etc/passwd", "/?q=%ZZ"];
const BAD_TARGETS = ["/\x01", "/ /", "?", "", "/\x7f", "/é"];
const VERSIONS = ["HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/1.0"];
const BAD_VERSIONS = ["HTTP/2.0", "HTTP/1.2", "HTTP/9.9", "HTTP/1.1 x", "http/1.1", "HTTP/1.10", "", "HTTP/0.9"];
const LENGTHS = ["0", "5", "-1", "abc", "99999999999999999999", "1e3", " 7", "007", "4294967296", "5, 5", "5, 6", "+5", "0x10"];
const ENCODINGS = ["chunked", "gzip, chunked", "chunked, gzip", "identity", "chunked\0", " chunked", "CHUNKED", "xchunked", "chunked;q=1", "chunked, chunked"];
const CHUNKS = [
  "5\r\nhello\r\n0\r\n\r\n", "zz\r\n", "-1\r\nx\r\n", "fffffffffffffffffff\r\nx", "5\r\nab\r\n", "0\r\n",
  "5;ext=\0\r\nhello\r\n0\r\n\r\n", "1\nx\n0\n\n", "5\r\nhelloXX0\r\n\r\n", "0\r\nTrailer: \0\r\n\r\n",
];
const HEADER_CHARS = ["a", "X", "-", "_", " ", ":", "\0", "\r", "\n", "\x7f", "\x1b", "é", "(", "\t", "\"", "/"];

/** A Host value that names no tunnel: unknown labels never all digits, other domains, nothing. */
function noSuchHost(rng: Rng, domain: string): string {
  return rng.pick([
    `nobody-${rng.int(1e6)}.${domain}`, `zz-${rng.int(1e6)}.${domain}:${rng.int(70_000)}`, `a.b.${domain}`, "example.com", "127.0.0.1",
    "[::1]:80", "", " ", `${"x".repeat(rng.int(400))}.${domain}`, domain, `-x.${domain}`, `zz_${rng.int(99)}.${domain}`,
    `ZZ-${rng.int(99)}.${domain.toUpperCase()}.`, `nobody.${domain}\0.evil`, `nobody.${domain}@1001.${domain}`, "\u00ff\u00fe",
  ]);
}

function junkHeader(rng: Rng): [string, string] {
  const word = (max: number) => Array.from({ length: rng.int(max) }, () => rng.pick(HEADER_CHARS)).join("");
  return [rng.chance(0.5) ? `X-${word(12)}` : word(20), rng.chance(0.5) ? word(40) : `v\r\n ${word(10)}`];
}

/**
 * Returns a request to the proxy that must be refused: every Host in it
 * names no tunnel. Most are well-formed enough to reach the proxy's own
 * routing (plain, Upgrade and CONNECT); the rest break the HTTP parser.
 */
export function proxyRequest(rng: Rng, domain: string): FuzzInput {
  const abort = maybeAbort(rng, 0.15);
  if (rng.chance(0.04)) return { kind: "proxy-random-bytes", bytes: rng.bytes(1 + rng.int(4000)), abort };
  const method = rng.chance(0.9) ? rng.pick(METHODS) : rng.pick(BAD_METHODS);
  const host = noSuchHost(rng, domain);
  const target = method === "CONNECT" && rng.chance(0.8) ? `${host}:443`
    : rng.chance(0.1) ? `http://${host}/` : rng.chance(0.9) ? rng.pick(TARGETS) : rng.pick(BAD_TARGETS);
  const headers: [string, string][] = [];
  const hosts = rng.pick([0, 1, 1, 1, 1, 1, 2, 3]);
  if (hosts >= 1) headers.push(["Host", host]);
  if (hosts === 2) headers.push(["Host", host]);
  if (hosts === 3) headers.push([rng.pick(["host", "HOST"]), noSuchHost(rng, domain)]);
  if (rng.chance(0.2)) headers.push(["Connection", "Upgrade"], ["Upgrade", rng.pick(["websocket", "h2c", "x".repeat(500)])]);
  for (let n = rng.int(3); n > 0; n--) {
    headers.push(rng.pick<() => [string, string]>([
      () => ["Content-Length", rng.pick(LENGTHS)],
      () => ["Transfer-Encoding", rng.pick(ENCODINGS)],
      () => ["Connection", rng.pick(["Upgrade", "close", "keep-alive", "Upgrade, HTTP2-Settings", "\0"])],
      () => ["Expect", rng.pick(["100-continue", "200-ok", ""])],
      () => ["Proxy-Authorization", `Bearer ${rng.bytes(12).toString("hex")}`],
      () => ["X-Big", "x".repeat(rng.int(40_000))],
      () => junkHeader(rng),
    ])());
  }
  if (rng.chance(0.03)) for (let n = 50 + rng.int(150); n > 0; n--) headers.push([`X-H${n}`, "1"]);
  const version = rng.chance(0.9) ? rng.pick(VERSIONS) : rng.pick(BAD_VERSIONS);
  const eol = rng.chance(0.9) ? "\r\n" : rng.pick(["\n", "\r"]);
  const body = rng.pick([() => "", () => "", () => rng.pick(CHUNKS), () => rng.bytes(rng.int(300)).toString("latin1")])();
  let bytes: Buffer = Buffer.from(`${method} ${target} ${version}${eol}${headers.map(([n, v]) => `${n}: ${v}${eol}`).join("")}${eol}${body}`, "latin1");
  if (rng.chance(0.15)) bytes = mutate(rng, bytes);
  if (rng.chance(0.05)) bytes = Buffer.concat([bytes, bytes]);
  const kind = method === "CONNECT" ? "connect" : headers.some(([n]) => n === "Upgrade") ? "upgrade" : "request";
  return { kind: `proxy-${kind}`, bytes, abort };
}
