/**
 * Requests for the fuzz test that aim at the proxy's own HTTP/1.1 parser:
 * each names a real tunnel and carries its access token, so only the
 * parser stands between it and the service, and each breaks exactly one
 * rule of RFC 9112 (framing, line endings, field syntax, request-line,
 * limits) at a random place. Every one must be refused (400 or 431) and the
 * service must never see it. Built from a seeded Rng, so a run can be replayed.
 * @module
 */
import type { FuzzInput } from "./fuzz-http.ts";
import type { Rng } from "./fuzz.ts";

const CTLS = ["\0", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x7f"];
const BAD_LENGTHS = ["-1", "abc", "+5", " 5 5", "1e3", "0x10", "5, 5", "5,6", "1234567890123456", "5\x0b"];
const BAD_CODINGS = ["gzip", "identity", "chunked, gzip", "xchunked", "chunked;q=1", "chunked, chunked", "chunked\x01"];
const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"];

/** One rule broken in a request head: returns the head's lines changed (line 0 is the request-line). */
type Break = (rng: Rng, lines: string[]) => { kind: string; lines: string[]; tail?: string };

const at = (rng: Rng, lines: string[]) => 1 + rng.int(lines.length);
const insert = (lines: string[], index: number, ...added: string[]) => [...lines.slice(0, index), ...added, ...lines.slice(index)];

const BREAKS: Break[] = [
  (rng, lines) => ({ kind: "cl-and-te", lines: insert(lines, at(rng, lines), `Content-Length: ${rng.int(20)}`, "Transfer-Encoding: chunked"), tail: "0\r\n\r\n" }),
  (rng, lines) => ({ kind: "two-cl", lines: insert(lines, at(rng, lines), `Content-Length: ${rng.int(3)}`, `Content-Length: ${rng.int(3)}`), tail: "ab" }),
  (rng, lines) => ({ kind: "bad-cl", lines: insert(lines, at(rng, lines), `Content-Length: ${rng.pick(BAD_LENGTHS)}`) }),
  (rng, lines) => ({ kind: "bad-te", lines: insert(lines, at(rng, lines), `Transfer-Encoding: ${rng.pick(BAD_CODINGS)}`), tail: "0\r\n\r\n" }),
  (rng, lines) => ({ kind: "obs-fold", lines: insert(lines, at(rng, lines), "X-Folded: a", `${rng.pick([" ", "\t"])}b`) }),
  (rng, lines) => ({ kind: "space-before-colon", lines: insert(lines, at(rng, lines), `${rng.pick(["X-A", "Content-Length", "Host"])}${rng.pick([" ", "\t"])}: 1`) }),
  (rng, lines) => ({ kind: "ctl-in-value", lines: insert(lines, at(rng, lines), `X-Ctl: a${rng.pick(CTLS)}b`) }),
  (rng, lines) => ({ kind: "bad-name", lines: insert(lines, at(rng, lines), `${rng.pick(["X(", "X\xe9", "X/Y", "X@", "[x]", "X\"", ""])}: 1`) }),
  (rng, lines) => ({ kind: "two-host", lines: insert(lines, at(rng, lines), `${rng.pick(["Host", "host", "HOST"])}: other.example`) }),
  (rng, lines) => {
    const [method, target] = lines[0].split(" ");
    const version = rng.pick(["HTTP/2.0", "HTTP/1.2", "HTTP/0.9", "http/1.1", "HTTP/1.10", "HTTP/1", "HTTP/1.1 x"]);
    return { kind: "bad-version", lines: [`${method} ${target} ${version}`, ...lines.slice(1)] };
  },
  (rng, lines) => {
    const [, target, version] = lines[0].split(" ");
    return { kind: "bad-method", lines: [`${rng.pick(["G(T", "GE\0T", "GET\t", "[GET]", ""])} ${target} ${version}`, ...lines.slice(1)] };
  },
  (rng, lines) => {
    const [method, , version] = lines[0].split(" ");
    return { kind: "bad-target", lines: [`${method} ${rng.pick(["/a b", "/\x01", "/\x7f", "/\xe9", "/a\tb", ""])} ${version}`, ...lines.slice(1)] };
  },
  (rng, lines) => ({ kind: "huge-head", lines: insert(lines, at(rng, lines), `X-Big: ${"b".repeat(16_384 + rng.int(4_000))}`) }),
  (rng, lines) => ({ kind: "many-fields", lines: insert(lines, at(rng, lines), ...Array.from({ length: 101 + rng.int(50) }, (_, i) => `X-F${i}: 1`)) }),
];

/** Joins lines with CRLF, then breaks one line ending: a bare LF, or a bare CR followed by more. */
function breakLineEnding(rng: Rng, lines: string[]): string {
  const index = rng.int(lines.length);
  return lines.map((line, i) => line + (i === index ? rng.pick(["\n", "\rX", "\r\r\n", "\n\r"]) : "\r\n")).join("") + "\r\n";
}

/**
 * Returns a request to `host` with `token` that breaks one rule of RFC 9112;
 * the proxy must refuse it with 400 or 431 before the service sees it.
 */
export function parserRequest(rng: Rng, host: string, token: string): FuzzInput {
  const method = rng.pick(METHODS);
  const base = [`${method} /${rng.int(1000)}?q=${rng.int(1000)} HTTP/1.1`, `Host: ${host}`, `X-Petit-Token: ${token}`, "Accept: */*"];
  const abort = rng.chance(0.05) ? rng.pick([0, 1, 5]) : false;
  if (rng.chance(0.12)) return { kind: "parser-line-ending", bytes: Buffer.from(breakLineEnding(rng, base), "latin1"), abort };
  const { kind, lines, tail } = rng.pick(BREAKS)(rng, base);
  return { kind: `parser-${kind}`, bytes: Buffer.from(`${lines.join("\r\n")}\r\n\r\n${tail ?? ""}`, "latin1"), abort };
}
