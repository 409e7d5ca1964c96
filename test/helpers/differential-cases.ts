/**
 * The requests of the differential test (petit against nginx): well-formed
 * ones both must pass on identically, and malformed ones petit must refuse.
 * Each is raw bytes for a Host and an access token.
 * @module
 */

/** One request of the corpus. */
export interface DifferentialCase {
  name: string;
  bytes(host: string, token: string): Buffer;
  /** A HEAD request: its answer has no body. */
  head?: boolean;
}

const raw = (name: string, text: (host: string, token: string) => string, head?: boolean): DifferentialCase => ({
  name, head, bytes: (host, token) => Buffer.from(text(host, token), "latin1"),
});

/** Host and token lines, for the head of any case. */
const id = (host: string, token: string) => `Host: ${host}\r\nX-Petit-Token: ${token}\r\n`;

export const WELL_FORMED: DifferentialCase[] = [
  raw("a plain GET", (h, t) => `GET / HTTP/1.1\r\n${id(h, t)}\r\n`),
  raw("a GET with a query, escapes and dot segments kept as sent", (h, t) => `GET /a/./b/../c?x=%41&y=%zz&z= HTTP/1.1\r\n${id(h, t)}\r\n`),
  raw("a GET with many ordinary fields, in order, repeats kept", (h, t) => `GET /fields HTTP/1.1\r\n${id(h, t)}Accept: text/html, */*;q=0.8\r\n` +
    "User-Agent: diff/1.0 (x; y)\r\nCookie: a=1; b=2\r\nX-Dup: one\r\nAuthorization: Bearer origin-secret\r\nX-Dup: two\r\n" +
    "X-Spaces: a  b\tc\r\nX-Empty:\r\nAccept-Language: fr-CH, fr;q=0.9\r\n\r\n"),
  raw("a field value with obs-text bytes", (h, t) => `GET /obs HTTP/1.1\r\n${id(h, t)}X-Latin: caf\xe9 cr\xe8me\r\n\r\n`),
  raw("a field of 4 KB", (h, t) => `GET /long HTTP/1.1\r\n${id(h, t)}X-Long: ${"v".repeat(4096)}\r\n\r\n`),
  raw("a POST with a Content-Length body of every byte value", (h, t) => {
    const body = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join("");
    return `POST /upload HTTP/1.1\r\n${id(h, t)}Content-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  }),
  raw("a POST with a chunked body, extensions and all", (h, t) => `POST /chunks HTTP/1.1\r\n${id(h, t)}Transfer-Encoding: chunked\r\n\r\n` +
    "5;ext=1\r\nhello\r\nA\r\n, world!!!\r\n0\r\n\r\n"),
  raw("a PUT with an empty body", (h, t) => `PUT /empty-body HTTP/1.1\r\n${id(h, t)}Content-Length: 0\r\n\r\n`),
  raw("a DELETE with a body", (h, t) => `DELETE /thing HTTP/1.1\r\n${id(h, t)}Content-Length: 4\r\n\r\ngone`),
  raw("a HEAD", (h, t) => `HEAD /head HTTP/1.1\r\n${id(h, t)}\r\n`, true),
  raw("an absolute-form target, answered from its path", (h, t) => `GET http://${h}/abs?q=1 HTTP/1.1\r\n${id(h, t)}\r\n`),
  raw("an HTTP/1.0 request", (h, t) => `GET /old HTTP/1.0\r\n${id(h, t)}\r\n`),
  raw("a request that asks to close", (h, t) => `GET /bye HTTP/1.1\r\n${id(h, t)}Connection: close\r\n\r\n`),
  raw("a chunked answer with two Set-Cookie fields", (h, t) => `GET /chunked HTTP/1.1\r\n${id(h, t)}\r\n`),
  raw("a chunked answer to HTTP/1.0, which cannot take chunked", (h, t) => `GET /chunked HTTP/1.0\r\n${id(h, t)}\r\n`),
  raw("a 204 answer", (h, t) => `GET /empty HTTP/1.1\r\n${id(h, t)}\r\n`),
];

export const MALFORMED: DifferentialCase[] = [
  raw("Content-Length with Transfer-Encoding", (h, t) => `POST / HTTP/1.1\r\n${id(h, t)}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: ${h}\r\n\r\n`),
  raw("two different Content-Lengths", (h, t) => `POST / HTTP/1.1\r\n${id(h, t)}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`),
  raw("two equal Content-Lengths", (h, t) => `POST / HTTP/1.1\r\n${id(h, t)}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`),
  raw("a Content-Length list", (h, t) => `POST / HTTP/1.1\r\n${id(h, t)}Content-Length: 5, 5\r\n\r\nhello`),
  raw("a Content-Length that is not digits", (h, t) => `POST / HTTP/1.1\r\n${id(h, t)}Content-Length: abc\r\n\r\n`),
  raw("a signed Content-Length", (h, t) => `POST / HTTP/1.1\r\n${id(h, t)}Content-Length: +5\r\n\r\nhello`),
  raw("obs-fold", (h, t) => `GET / HTTP/1.1\r\n${id(h, t)}X-Folded: first\r\n second\r\n\r\n`),
  raw("whitespace before a colon", (h, t) => `GET / HTTP/1.1\r\n${id(h, t)}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`),
  raw("a NUL in a field value", (h, t) => `GET / HTTP/1.1\r\n${id(h, t)}X-A: a\0b\r\n\r\n`),
  raw("bare LF line endings", (h, t) => `GET / HTTP/1.1\n${id(h, t).replace(/\r\n/g, "\n")}\n`),
  raw("a bare CR inside a field line", (h, t) => `GET / HTTP/1.1\r\n${id(h, t)}X-A: 1\rX-B: 2\r\n\r\n`),
  raw("a chunk size that is not hex", (h, t) => `POST / HTTP/1.1\r\n${id(h, t)}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`),
  raw("chunk data longer than its size", (h, t) => `POST / HTTP/1.1\r\n${id(h, t)}Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\n`),
  raw("chunked not last", (h, t) => `POST / HTTP/1.1\r\n${id(h, t)}Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n`),
  raw("a transfer coding that only looks like chunked", (h, t) => `POST / HTTP/1.1\r\n${id(h, t)}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`),
  raw("Transfer-Encoding in HTTP/1.0", (h, t) => `POST / HTTP/1.0\r\n${id(h, t)}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`),
  raw("two Host fields", (h, t) => `GET / HTTP/1.1\r\n${id(h, t)}Host: other.example\r\n\r\n`),
  raw("HTTP/2.0 on an HTTP/1 connection", (h, t) => `GET / HTTP/2.0\r\n${id(h, t)}\r\n`),
  raw("a space in the request-target", (h, t) => `GET /a b HTTP/1.1\r\n${id(h, t)}\r\n`),
  raw("a field name with a byte outside tchar", (h, t) => `GET / HTTP/1.1\r\n${id(h, t)}X-\xe9: 1\r\n\r\n`),
  raw("a head of 20 KB", (h, t) => `GET / HTTP/1.1\r\n${id(h, t)}X-Big: ${"b".repeat(20 * 1024)}\r\n\r\n`),
];
