/**
 * parseProxyHeader(): the PROXY protocol header (HAProxy's proxy-protocol.txt,
 * versions 1 and 2), one test per production and per refusal.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MAX_V1_LENGTH, MAX_V2_LENGTH, parseProxyHeader } from "../../../../lib/server/proxy/proxy-protocol.ts";

const SIGNATURE = Buffer.from("0d0a0d0a000d0a515549540a", "hex");
/** A version-2 header: version/command byte, family/transport byte, then `body` as addresses and TLVs. */
const v2 = (command: number, family: number, body: Buffer) => {
  const fixed = Buffer.alloc(4);
  fixed[0] = command;
  fixed[1] = family;
  fixed.writeUInt16BE(body.length, 2);
  return Buffer.concat([SIGNATURE, fixed, body]);
};
const inet = (source: number[], destination: number[]) => Buffer.from([...source, ...destination, 0x14, 0x03, 0x00, 0x50]);
const v1 = (text: string) => Buffer.from(text, "latin1");

describe("parseProxyHeader() version 1", () => {
  test("parseProxyHeader() reads a TCP4 header and says how long it is, leaving what follows", () => {
    const header = "PROXY TCP4 203.0.113.7 10.0.0.1 5123 80\r\n";
    assert.deepEqual(parseProxyHeader(v1(`${header}GET / HTTP/1.1\r\n`)), { length: header.length, source: "203.0.113.7" });
  });

  test("parseProxyHeader() reads a TCP6 header", () => {
    assert.deepEqual(parseProxyHeader(v1("PROXY TCP6 2001:db8::7 2001:db8::1 5123 443\r\n")), { length: 45, source: "2001:db8::7" });
  });

  test("parseProxyHeader() takes UNKNOWN with anything up to the CRLF as naming no visitor", () => {
    assert.deepEqual(parseProxyHeader(v1("PROXY UNKNOWN\r\n")), { length: 15, source: undefined });
    assert.deepEqual(parseProxyHeader(v1("PROXY UNKNOWN ffff:: ffff:: 1 2\r\n")), { length: 33, source: undefined });
  });

  test("parseProxyHeader() asks for more while a header may still be on its way", () => {
    for (const part of ["P", "PROXY", "PROXY TCP4 203.0.113.7 10.0.0.1 5123 80", "PROXY TCP4 203.0.113.7 10.0.0.1 5123 80\r"]) {
      assert.equal(parseProxyHeader(v1(part)), "more", part);
    }
  });

  test("parseProxyHeader() refuses a connection that begins with anything else", () => {
    assert.match(parseProxyHeader(v1("GET / HTTP/1.1\r\n")) as string, /does not begin with a PROXY protocol header/);
    assert.match(parseProxyHeader(v1("PROXZ TCP4")) as string, /must begin with "PROXY "/);
  });

  test("parseProxyHeader() refuses a header without CRLF within 107 bytes", () => {
    assert.match(parseProxyHeader(v1(`PROXY UNKNOWN ${"x".repeat(MAX_V1_LENGTH)}`)) as string, /CRLF within 107 bytes/);
    assert.match(parseProxyHeader(v1(`PROXY UNKNOWN ${"x".repeat(MAX_V1_LENGTH - 15)}\r\n`)) as string, /CRLF within 107 bytes/);
  });

  test("parseProxyHeader() refuses extra, missing or doubled spaces and fields", () => {
    for (const bad of [
      "PROXY TCP4 203.0.113.7 10.0.0.1 5123 80 9\r\n", "PROXY TCP4 203.0.113.7 10.0.0.1 5123\r\n",
      "PROXY TCP4  203.0.113.7 10.0.0.1 5123 80\r\n", "PROXY TCP4 203.0.113.7 10.0.0.1 5123 80 \r\n",
    ]) assert.match(parseProxyHeader(v1(bad)) as string, /./, bad);
  });

  test("parseProxyHeader() refuses an unknown family and addresses of the wrong family", () => {
    assert.match(parseProxyHeader(v1("PROXY UDP4 203.0.113.7 10.0.0.1 5123 80\r\n")) as string, /family "UDP4", not TCP4, TCP6 or UNKNOWN/);
    assert.match(parseProxyHeader(v1("PROXY TCP4 2001:db8::7 10.0.0.1 5123 80\r\n")) as string, /both be TCP4 addresses/);
    assert.match(parseProxyHeader(v1("PROXY TCP6 203.0.113.7 2001:db8::1 5123 80\r\n")) as string, /both be TCP6 addresses/);
    assert.match(parseProxyHeader(v1("PROXY TCP4 203.0.113.777 10.0.0.1 5123 80\r\n")) as string, /both be TCP4 addresses/);
  });

  test("parseProxyHeader() refuses ports out of range or with leading zeros", () => {
    for (const ports of ["65536 80", "05123 80", "-1 80", "5123 8o"]) {
      assert.match(parseProxyHeader(v1(`PROXY TCP4 203.0.113.7 10.0.0.1 ${ports}\r\n`)) as string, /ports must be numbers/, ports);
    }
  });
});

describe("parseProxyHeader() version 2", () => {
  test("parseProxyHeader() reads a PROXY command over TCP/IPv4", () => {
    const header = v2(0x21, 0x11, inet([203, 0, 113, 7], [10, 0, 0, 1]));
    assert.deepEqual(parseProxyHeader(Buffer.concat([header, v1("GET /")])), { length: 28, source: "203.0.113.7" });
  });

  test("parseProxyHeader() reads a PROXY command over TCP/IPv6, skipping TLVs", () => {
    const source = Buffer.from("20010db8000000000000000000000007", "hex");
    const body = Buffer.concat([source, Buffer.alloc(16), Buffer.from([0, 1, 0, 2]), Buffer.from([0x04, 0x00, 0x01, 0x00])]);
    assert.deepEqual(parseProxyHeader(v2(0x21, 0x21, body)), { length: 16 + 36 + 4, source: "2001:db8:0:0:0:0:0:7" });
  });

  test("parseProxyHeader() takes LOCAL, AF_UNSPEC and AF_UNIX as naming no visitor", () => {
    assert.deepEqual(parseProxyHeader(v2(0x20, 0x00, Buffer.alloc(0))), { length: 16, source: undefined });
    assert.deepEqual(parseProxyHeader(v2(0x20, 0x11, inet([203, 0, 113, 7], [10, 0, 0, 1]))), { length: 28, source: undefined });
    assert.deepEqual(parseProxyHeader(v2(0x21, 0x00, Buffer.alloc(0))), { length: 16, source: undefined });
    assert.deepEqual(parseProxyHeader(v2(0x21, 0x31, Buffer.alloc(216))), { length: 232, source: undefined });
  });

  test("parseProxyHeader() asks for more until the fixed part and then the addresses are whole", () => {
    const header = v2(0x21, 0x11, inet([203, 0, 113, 7], [10, 0, 0, 1]));
    for (const n of [1, 12, 15, 16, 27]) assert.equal(parseProxyHeader(header.subarray(0, n)), "more", `${n} bytes`);
  });

  test("parseProxyHeader() refuses a wrong signature, version or command", () => {
    const good = v2(0x21, 0x11, inet([203, 0, 113, 7], [10, 0, 0, 1]));
    const broken = Buffer.from(good);
    broken[6] = 0x0b;
    assert.match(parseProxyHeader(broken) as string, /12-byte signature/);
    assert.match(parseProxyHeader(v2(0x11, 0x11, inet([1, 2, 3, 4], [5, 6, 7, 8]))) as string, /version 1, not 2/);
    assert.match(parseProxyHeader(v2(0x22, 0x11, inet([1, 2, 3, 4], [5, 6, 7, 8]))) as string, /command 2, not LOCAL/);
  });

  test("parseProxyHeader() refuses an unknown family or transport, and addresses shorter than their family", () => {
    assert.match(parseProxyHeader(v2(0x21, 0x41, Buffer.alloc(12))) as string, /address family 4/);
    assert.match(parseProxyHeader(v2(0x21, 0x13, Buffer.alloc(12))) as string, /transport 3/);
    assert.match(parseProxyHeader(v2(0x21, 0x11, Buffer.alloc(11))) as string, /shorter than its 12 address bytes/);
    assert.match(parseProxyHeader(v2(0x21, 0x21, Buffer.alloc(35))) as string, /shorter than its 36 address bytes/);
  });

  test("parseProxyHeader() refuses a header longer than its hard limit before reading it", () => {
    const fixed = Buffer.concat([SIGNATURE, Buffer.from([0x21, 0x11, 0xff, 0xff])]);
    assert.match(parseProxyHeader(fixed) as string, new RegExp(`65551 bytes is longer than the ${MAX_V2_LENGTH}`));
  });
});
