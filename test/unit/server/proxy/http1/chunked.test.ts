/**
 * ChunkScanner: where a chunked body ends (RFC 9112 §7.1), found by
 * scanning its framing in whatever pieces it arrives; one test per refusal.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ChunkScanner, MAX_CHUNK_LINE, MAX_TRAILER_BYTES } from "../../../../../lib/server/proxy/http1/chunked.ts";
import { HeadError } from "../../../../../lib/server/proxy/http1/head-error.ts";

/** Scans `text` in pieces of `piece` bytes; returns the end offset in the whole text, or -1. */
function scan(text: string, piece = text.length): number {
  const buf = Buffer.from(text, "latin1");
  const scanner = new ChunkScanner();
  for (let at = 0; at < buf.length; at += piece) {
    const part = buf.subarray(at, Math.min(buf.length, at + piece));
    const end = scanner.scan(part, 0, part.length);
    if (end >= 0) return at + end;
  }
  return -1;
}

function refused(text: string, rule: RegExp): void {
  assert.throws(() => scan(text), (error: unknown) => error instanceof HeadError && error.status === 400 && rule.test(error.rule));
}

describe("ChunkScanner", () => {
  test("scan() finds the end of a chunked body, and not a byte further", () => {
    const body = "5\r\nhello\r\n0\r\n\r\n";
    assert.equal(scan(`${body}GET / HTTP/1.1\r\n`), body.length);
  });

  test("scan() finds the same end whatever the pieces the body arrives in", () => {
    const body = "a\r\n0123456789\r\n1;ext=\"v\"\r\nx\r\n0\r\nTrailer-A: 1\r\nTrailer-B: 2\r\n\r\n";
    for (let piece = 1; piece <= body.length; piece++) assert.equal(scan(body, piece), body.length, `pieces of ${piece}`);
  });

  test("scan() asks for more until the last chunk and its empty line have come", () => {
    const body = "3\r\nabc\r\n0\r\n\r\n";
    for (let cut = 0; cut < body.length; cut++) assert.equal(scan(body.slice(0, cut)), -1, `cut at ${cut}`);
  });

  test("scan() reads hex sizes in either case, with leading zeros", () => {
    for (const body of [`A\r\n${"x".repeat(10)}\r\n00000\r\n\r\n`, `1f\r\n${"x".repeat(31)}\r\n0\r\n\r\n`, `aB\r\n${"x".repeat(171)}\r\n0\r\n\r\n`]) {
      assert.equal(scan(body), body.length);
    }
  });

  test("scan() accepts chunk extensions, with whitespace before the semicolon", () => {
    assert.ok(scan("1 ;a=b\r\nx\r\n0;last\r\n\r\n") > 0);
  });

  test("scan() gives chunk data alone to onData, for a visitor that cannot take chunked", () => {
    const buf = Buffer.from("5\r\nhello\r\n6\r\n world\r\n0\r\nT: 1\r\n\r\n");
    const parts: string[] = [];
    new ChunkScanner().scan(buf, 0, buf.length, (b, s, e) => parts.push(b.toString("latin1", s, e)));
    assert.equal(parts.join(""), "hello world");
  });

  test("scan() refuses a chunk that does not begin with a hex size", () => {
    refused("zz\r\n", /hex digits/);
    refused("-1\r\nx\r\n", /hex digits/);
    refused("\r\n", /hex digits/);
  });

  test("scan() refuses a size too large to be exact", () => {
    refused("fffffffffffffffffff\r\nx", /too large/);
  });

  test("scan() refuses whitespace after a size that no extension follows", () => {
    refused("5 \r\nhello\r\n0\r\n\r\n", /whitespace/);
  });

  test("scan() refuses a bare LF ending a size line", () => {
    refused("1\nx\n0\n\n", /size must be hex|CRLF/);
  });

  test("scan() refuses chunk data not followed by CRLF", () => {
    refused("5\r\nhelloXX0\r\n\r\n", /followed by CRLF/);
    refused("5\r\nhello\n0\r\n\r\n", /followed by CRLF/);
  });

  test("scan() refuses a control byte in an extension or a trailer field", () => {
    refused("5;ext=\0\r\nhello\r\n0\r\n\r\n", /control byte/);
    refused("0\r\nTrailer: \0\r\n\r\n", /control byte/);
  });

  test("scan() refuses a trailer line that does not begin with a name, and a bare LF after the trailers", () => {
    refused("0\r\n: x\r\n\r\n", /trailer field must begin/);
    refused("0\r\n\r\r", /end with CRLF/);
  });

  test(`scan() refuses a size line over ${MAX_CHUNK_LINE} bytes and a trailer section over ${MAX_TRAILER_BYTES}`, () => {
    refused(`1;${"e".repeat(MAX_CHUNK_LINE)}\r\nx\r\n0\r\n\r\n`, /chunk-size line is longer/);
    refused(`0\r\n${"T: x\r\n".repeat(MAX_TRAILER_BYTES / 4)}\r\n`, /trailer section is longer/);
  });

  test("reset() readies the scanner for the next body", () => {
    const scanner = new ChunkScanner();
    const first = Buffer.from("3\r\nab");
    assert.equal(scanner.scan(first, 0, first.length), -1);
    scanner.reset();
    const second = Buffer.from("0\r\n\r\n");
    assert.equal(scanner.scan(second, 0, second.length), 5);
  });
});
