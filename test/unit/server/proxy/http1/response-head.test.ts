/**
 * parseResponseHead(): the proxy's reading of a service's response head
 * (RFC 9112 §4), and its framing as the proxy delimits the body (§6.3).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { HeadError } from "../../../../../lib/server/proxy/http1/head-error.ts";
import { parseResponseHead, ResponseHead } from "../../../../../lib/server/proxy/http1/response-head.ts";

function parse(text: string): { head: ResponseHead; end: number; buf: Buffer } {
  const buf = Buffer.from(text, "latin1");
  const head = new ResponseHead();
  return { head, end: parseResponseHead(buf, 0, buf.length, head), buf };
}

function refused(text: string, rule: RegExp): void {
  assert.throws(() => parse(text), (error: unknown) => error instanceof HeadError && rule.test(error.rule));
}

describe("parseResponseHead()", () => {
  test("parseResponseHead() reads the status, the version and where the reason ends", () => {
    const text = "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nabc";
    const { head, end, buf } = parse(text);
    assert.equal(head.status, 404);
    assert.equal(head.minor, 1);
    assert.equal(buf.toString("latin1", head.statusStart, head.lineEnd), "404 Not Found");
    assert.equal(end, text.length - 3);
    assert.equal(head.framing.contentLength, 3);
  });

  test("parseResponseHead() accepts an empty reason-phrase, with or without its space", () => {
    assert.equal(parse("HTTP/1.1 204 \r\n\r\n").head.status, 204);
    assert.equal(parse("HTTP/1.0 200\r\n\r\n").head.minor, 0);
  });

  test("parseResponseHead() reads chunked, other codings and no framing at all", () => {
    assert.equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").head.framing.chunked, true);
    assert.equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n").head.framing.otherCoding, true);
    const none = parse("HTTP/1.1 200 OK\r\n\r\n").head.framing;
    assert.equal(none.contentLength, -1);
    assert.equal(none.chunked || none.otherCoding, false);
  });

  test("parseResponseHead() asks for more bytes while the head is not whole", () => {
    const text = "HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\n";
    for (let cut = 0; cut < text.length; cut++) assert.equal(parse(text.slice(0, cut)).end, -1, `cut at ${cut}`);
  });

  test("parseResponseHead() refuses a status-line that is not HTTP/1.x SP 3DIGIT", () => {
    for (const line of ["HTTP/2 200 OK", "HTTP/1.1 20 OK", "HTTP/1.1 2000 OK", "HTTP/1.1 099 x", "HTTP/1.1  200 OK", "http/1.1 200 OK", "HTTP/1.2 200 OK"]) {
      refused(`${line}\r\n\r\n`, /status-line/);
    }
  });

  test("parseResponseHead() refuses a control byte in the reason, and a bare LF", () => {
    refused("HTTP/1.1 200 O\0K\r\n\r\n", /status-line/);
    refused("HTTP/1.1 200 OK\nX-A: 1\r\n\r\n", /status-line/);
    refused("HTTP/1.1 200 OK\r\nX-A: 1\n\r\n", /bare LF/);
  });

  test("parseResponseHead() refuses obs-fold and two Content-Lengths, as in requests", () => {
    refused("HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\n\r\n", /obs-fold/);
    refused("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", /more than one Content-Length/);
    refused("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", /together with/);
  });
});
