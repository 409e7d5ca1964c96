/**
 * parseRequestHead(): the proxy's reading of a visitor's request head,
 * production by production of RFC 9112 (request-line §3, field lines §5,
 * framing §6), and one test per refusal.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { F } from "../../../../../lib/server/proxy/http1/fields.ts";
import { HeadError } from "../../../../../lib/server/proxy/http1/head-error.ts";
import { MAX_FIELDS, MAX_HEAD_BYTES, parseRequestHead, RequestHead } from "../../../../../lib/server/proxy/http1/request-head.ts";

function parse(text: string): { head: RequestHead; end: number; buf: Buffer } {
  const buf = Buffer.from(text, "latin1");
  const head = new RequestHead();
  return { head, end: parseRequestHead(buf, 0, buf.length, head), buf };
}

/** Asserts `text` is refused with `status` and a rule matching `rule`. */
function refused(text: string, status: number, rule: RegExp): void {
  assert.throws(() => parse(text), (error: unknown) => {
    assert.ok(error instanceof HeadError, String(error));
    assert.equal(error.status, status, error.message);
    assert.match(error.rule, rule);
    return true;
  });
}

const GET = "GET / HTTP/1.1\r\nHost: a.example\r\n";

describe("parseRequestHead(): request-line (RFC 9112 §3)", () => {
  test("parseRequestHead() reads the method, the target and the version, and returns the offset after the head", () => {
    const text = `${GET}\r\nBODY`;
    const { head, end } = parse(text);
    assert.equal(head.method, "GET");
    assert.equal(head.target, "/");
    assert.equal(head.minor, 1);
    assert.equal(end, text.length - 4);
    assert.equal(head.length, end);
  });

  test("parseRequestHead() accepts any token as a method, case kept", () => {
    for (const method of ["PATCH", "PROPFIND", "M-SEARCH", "get", "X!#$%&'*+.^_`|~"]) {
      assert.equal(parse(`${method} / HTTP/1.1\r\nHost: a\r\n\r\n`).head.method, method);
    }
  });

  test("parseRequestHead() reads origin-form, absolute-form, authority-form and asterisk-form targets as sent", () => {
    for (const target of ["/a/b?c=d&e", "http://a.example/x", "a.example:443", "*"]) {
      assert.equal(parse(`OPTIONS ${target} HTTP/1.1\r\nHost: a\r\n\r\n`).head.target, target);
    }
  });

  test("parseRequestHead() reads HTTP/1.0 as minor 0, and an HTTP/1.0 request needs no Host", () => {
    const { head } = parse("GET / HTTP/1.0\r\n\r\n");
    assert.equal(head.minor, 0);
    assert.equal(head.host, -1);
  });

  test("parseRequestHead() ignores empty lines before the request-line (RFC 9112 §2.2)", () => {
    const { head, end } = parse(`\r\n\r\n${GET}\r\n`);
    assert.equal(head.start, 4);
    assert.equal(end, 4 + GET.length + 2);
  });

  test("parseRequestHead() asks for more bytes, never guesses, while the head is not whole", () => {
    const text = `${GET}X-A: 1\r\n\r\n`;
    for (let cut = 0; cut < text.length; cut++) assert.equal(parse(text.slice(0, cut)).end, -1, `cut at ${cut}`);
  });

  test("parseRequestHead() refuses a method that is not a token", () => {
    refused("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, /method must be a token/);
    refused(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400, /method must be a token/);
  });

  test("parseRequestHead() refuses two spaces, a tab or nothing between the parts of the request-line", () => {
    refused("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400, /request-target/);
    refused("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, /method/);
    refused("GET /  HTTP/1.1\r\nHost: a\r\n\r\n", 400, /version/);
  });

  test("parseRequestHead() refuses control bytes, DEL and obs-text in the request-target", () => {
    for (const bad of ["/\x01", "/\x7f", "/\xe9", "/\0"]) refused(`GET ${bad} HTTP/1.1\r\nHost: a\r\n\r\n`, 400, /request-target/);
  });

  test("parseRequestHead() refuses a malformed version, and versions other than 1.0 and 1.1", () => {
    for (const version of ["http/1.1", "HTTP/1.10", "HTTP/1", "HTTP/11.1", "HTTP/1.1 x", "HTTX/1.1"]) {
      refused(`GET / ${version}\r\nHost: a\r\n\r\n`, 400, /version|CRLF/);
    }
    for (const version of ["HTTP/2.0", "HTTP/1.2", "HTTP/0.9", "HTTP/9.9"]) {
      refused(`GET / ${version}\r\nHost: a\r\n\r\n`, 400, /HTTP\/1\.0 and HTTP\/1\.1 only/);
    }
  });

  test("parseRequestHead() refuses a bare LF or a bare CR ending the request-line", () => {
    refused("GET / HTTP/1.1\nHost: a\n\n", 400, /CRLF/);
    refused("GET / HTTP/1.1\rHost: a\r\n\r\n", 400, /CRLF/);
  });

  test("parseRequestHead() refuses more than a few empty lines before the request-line", () => {
    refused(`${"\r\n".repeat(5)}${GET}\r\n`, 400, /empty lines/);
  });
});

describe("parseRequestHead(): field lines (RFC 9112 §5)", () => {
  test("parseRequestHead() keeps each field line's name and value, without the whitespace around the value", () => {
    const { head, buf } = parse(`${GET}X-Custom:  a b \t\r\nEmpty:\r\n\r\n`);
    const { fields } = head;
    assert.equal(fields.count, 3);
    assert.equal(fields.name(buf, 1), "x-custom");
    assert.equal(fields.value(buf, 1), "a b");
    assert.equal(fields.value(buf, 2), "");
  });

  test("parseRequestHead() knows the fields the proxy acts on, in any case", () => {
    const { head } = parse("GET / HTTP/1.1\r\nhOsT: a\r\nX-PETIT-TOKEN: t\r\nproxy-authorization: Bearer t\r\nX-Other: 1\r\n\r\n");
    assert.deepEqual([...head.fields.ids.subarray(0, 4)], [F.HOST, F.X_PETIT_TOKEN, F.PROXY_AUTHORIZATION, F.OTHER]);
  });

  test("parseRequestHead() keeps obs-text (bytes 0x80-0xFF) in a value", () => {
    const { head, buf } = parse(`${GET}X-Name: caf\xe9\r\n\r\n`);
    assert.equal(head.fields.value(buf, 1), "caf\xe9");
  });

  test("parseRequestHead() refuses obs-fold, a line that begins with whitespace (RFC 9112 §5.2)", () => {
    refused(`${GET}X-Folded: first\r\n second\r\n\r\n`, 400, /obs-fold/);
    refused(`${GET}X-Folded: first\r\n\tsecond\r\n\r\n`, 400, /obs-fold/);
  });

  test("parseRequestHead() refuses whitespace between a field name and its colon (RFC 9112 §5.1)", () => {
    refused(`${GET}X-A : 1\r\n\r\n`, 400, /field name must be a token/);
  });

  test("parseRequestHead() refuses a field name that is empty or not a token", () => {
    refused(`${GET}: 1\r\n\r\n`, 400, /field name/);
    refused(`${GET}X(A): 1\r\n\r\n`, 400, /field name/);
    refused(`${GET}X\xe9: 1\r\n\r\n`, 400, /field name/);
    refused(`${GET}NoColon\r\n\r\n`, 400, /field name/);
  });

  test("parseRequestHead() refuses a control byte in a field value (RFC 9110 §5.5)", () => {
    for (const c of ["\0", "\x01", "\x1b", "\x7f"]) refused(`${GET}X-A: a${c}b\r\n\r\n`, 400, /control byte/);
  });

  test("parseRequestHead() refuses a bare LF or a bare CR ending a field line (RFC 9112 §2.2)", () => {
    refused(`${GET}X-A: 1\nX-B: 2\r\n\r\n`, 400, /bare LF/);
    refused(`${GET}X-A: 1\rX-B: 2\r\n\r\n`, 400, /bare CR/);
    refused(`${GET}X-A: 1\r\n\n`, 400, /bare LF/);
    refused(`${GET}\r\r\n`, 400, /bare CR/);
  });

  test(`parseRequestHead() refuses a head longer than ${MAX_HEAD_BYTES} bytes with 431`, () => {
    refused(`${GET}X-Big: ${"b".repeat(MAX_HEAD_BYTES)}\r\n\r\n`, 431, /longer than/);
    // Not yet whole, but already too long: refused without waiting for the rest.
    refused(`${GET}X-Big: ${"b".repeat(MAX_HEAD_BYTES)}`, 431, /longer than/);
  });

  test(`parseRequestHead() refuses more than ${MAX_FIELDS} field lines with 431`, () => {
    const many = Array.from({ length: MAX_FIELDS }, (_, i) => `X-H${i}: 1\r\n`).join("");
    assert.equal(parse(`GET / HTTP/1.0\r\n${many}\r\n`).head.fields.count, MAX_FIELDS);
    refused(`${GET}${many}\r\n`, 431, /field lines/);
  });
});

describe("parseRequestHead(): Host (RFC 9112 §3.2)", () => {
  test("parseRequestHead() points at the one Host field", () => {
    const { head, buf } = parse("GET / HTTP/1.1\r\nX-A: 1\r\nHost: Shop.Example.:80\r\n\r\n");
    assert.equal(head.host, 1);
    assert.equal(head.hostValue(buf), "Shop.Example.:80");
  });

  test("parseRequestHead() refuses a second Host field, in any case", () => {
    refused("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400, /more than one Host/);
    refused("GET / HTTP/1.0\r\nHost: a\r\nHOST: b\r\n\r\n", 400, /more than one Host/);
  });

  test("parseRequestHead() refuses an HTTP/1.1 request without Host", () => {
    refused("GET / HTTP/1.1\r\nX-A: 1\r\n\r\n", 400, /must have a Host/);
  });
});

describe("parseRequestHead(): message framing (RFC 9112 §6)", () => {
  test("parseRequestHead() reads a Content-Length of digits", () => {
    assert.equal(parse(`${GET}Content-Length: 0\r\n\r\n`).head.framing.contentLength, 0);
    assert.equal(parse(`${GET}Content-Length: 007\r\n\r\n`).head.framing.contentLength, 7);
    assert.equal(parse(`${GET}Content-Length: 123456789012345\r\n\r\n`).head.framing.contentLength, 123456789012345);
    assert.equal(parse(`${GET}\r\n`).head.framing.contentLength, -1);
  });

  test("parseRequestHead() refuses a Content-Length that is not 1*DIGIT, or too long to be exact", () => {
    for (const bad of ["", "-1", "+5", "abc", "1e3", "0x10", "5, 5", "5,5", "1 2", "1234567890123456"]) {
      refused(`${GET}Content-Length: ${bad}\r\n\r\n`, 400, /Content-Length must be/);
    }
  });

  test("parseRequestHead() refuses a second Content-Length, even an equal one", () => {
    refused(`${GET}Content-Length: 5\r\nContent-Length: 5\r\n\r\n`, 400, /more than one Content-Length/);
  });

  test("parseRequestHead() reads Transfer-Encoding with chunked last, in any case", () => {
    for (const value of ["chunked", "CHUNKED", "gzip, chunked", "gzip,chunked"]) {
      assert.equal(parse(`${GET}Transfer-Encoding: ${value}\r\n\r\n`).head.framing.chunked, true, value);
    }
    assert.equal(parse(`${GET}Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n`).head.framing.chunked, true);
  });

  test("parseRequestHead() refuses Transfer-Encoding without chunked last (RFC 9112 §6.3)", () => {
    for (const value of ["gzip", "identity", "chunked, gzip", "xchunked", "chunked;q=1"]) {
      refused(`${GET}Transfer-Encoding: ${value}\r\n\r\n`, 400, /chunked|transfer coding/);
    }
  });

  test("parseRequestHead() refuses chunked applied twice", () => {
    refused(`${GET}Transfer-Encoding: chunked, chunked\r\n\r\n`, 400, /applied once/);
    refused(`${GET}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n`, 400, /applied once/);
  });

  test("parseRequestHead() refuses Content-Length together with Transfer-Encoding (RFC 9112 §6.1)", () => {
    refused(`${GET}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n`, 400, /together with Transfer-Encoding/);
    refused(`${GET}Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n`, 400, /together with Transfer-Encoding/);
  });

  test("parseRequestHead() refuses Transfer-Encoding in an HTTP/1.0 request", () => {
    refused("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, /HTTP\/1\.0 request must not use Transfer-Encoding/);
  });
});

describe("parseRequestHead(): Connection (RFC 9110 §7.6.1)", () => {
  test("parseRequestHead() reads close, keep-alive and upgrade, and the other names Connection lists", () => {
    const { framing } = parse(`${GET}Connection: Keep-Alive, Upgrade, X-Custom\r\nConnection: close,,te\r\n\r\n`).head;
    assert.equal(framing.keepAlive, true);
    assert.equal(framing.upgrade, true);
    assert.equal(framing.close, true);
    assert.deepEqual(framing.named, ["x-custom", "te"]);
  });

  test("parseRequestHead() forgets the previous request's framing on a reused RequestHead", () => {
    const head = new RequestHead();
    const first = Buffer.from(`${GET}Connection: close, x-a\r\nContent-Length: 3\r\n\r\n`);
    parseRequestHead(first, 0, first.length, head);
    const second = Buffer.from(`${GET}\r\n`);
    parseRequestHead(second, 0, second.length, head);
    assert.equal(head.framing.close, false);
    assert.equal(head.framing.named, undefined);
    assert.equal(head.framing.contentLength, -1);
  });
});
