/**
 * writeRequestHead() and writeResponseHead(): the heads the proxy writes,
 * from parsed ones, with hop-by-hop fields (and those Connection names)
 * dropped both ways and petit's own set.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { BlockList, Socket } from "node:net";
import { writeRequestHead, writeResponseHead } from "../../../../lib/server/proxy/forward-head.ts";
import { HeadWriter } from "../../../../lib/server/proxy/head-writer.ts";
import { parseRequestHead, RequestHead } from "../../../../lib/server/proxy/http1/request-head.ts";
import { parseResponseHead, ResponseHead } from "../../../../lib/server/proxy/http1/response-head.ts";
import { readRequest } from "../../../../lib/server/proxy/read-request.ts";
import type { ProxyOptions } from "../../../../lib/server/proxy/types.ts";

/** A socket that says it comes from `address`, without connecting. */
function fakeSocket(address: string): Socket {
  const socket = new Socket();
  Object.defineProperty(socket, "remoteAddress", { value: address });
  return socket;
}

function request(text: string, options: Partial<ProxyOptions> = {}, upgrade = false, peer = "203.0.113.7"): string {
  const buf = Buffer.from(text, "latin1");
  const head = new RequestHead();
  parseRequestHead(buf, 0, buf.length, head);
  const req = readRequest(buf, head, fakeSocket(peer));
  return writeRequestHead(new HeadWriter(), buf, head, req, options as ProxyOptions, upgrade).toString("latin1");
}

function response(text: string, out = { chunked: false, close: false, upgraded: false }): string {
  const buf = Buffer.from(text, "latin1");
  const head = new ResponseHead();
  const end = parseResponseHead(buf, 0, buf.length, head);
  const [bytes] = writeResponseHead(new HeadWriter(), buf, head, out, end, buf.length);
  return bytes.toString("latin1");
}

describe("writeRequestHead()", () => {
  test("writeRequestHead() keeps end-to-end fields as sent, in order, and sets X-Forwarded-* and X-Real-IP", () => {
    const out = request("GET /a?b HTTP/1.1\r\nHost: shop.example\r\nAccept: */*\r\nX-Dup: 1\r\nAuthorization: Basic eA==\r\nX-Dup: 2\r\n\r\n");
    assert.equal(out, "GET /a?b HTTP/1.1\r\nhost: shop.example\r\nAccept: */*\r\nX-Dup: 1\r\nAuthorization: Basic eA==\r\nX-Dup: 2\r\n" +
      "x-forwarded-for: 203.0.113.7\r\nx-real-ip: 203.0.113.7\r\nx-forwarded-proto: http\r\nx-forwarded-host: shop.example\r\n\r\n");
  });

  test("writeRequestHead() drops hop-by-hop fields, the token, fields Connection names, and the visitor's own X-Forwarded-*", () => {
    const out = request("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: 5\r\nTE: trailers\r\n" +
      "Proxy-Authorization: Bearer t\r\nX-Petit-Token: t\r\nX-Forwarded-For: 6.6.6.6\r\nForwarded: for=6.6.6.6\r\nX-Real-IP: 6.6.6.6\r\nX-Kept: yes\r\n\r\n");
    for (const gone of ["Connection", "X-Hop", "Keep-Alive", "TE:", "Proxy-Authorization", "X-Petit-Token", "6.6.6.6", "Forwarded:"]) {
      assert.ok(!out.includes(gone), `${gone} reached the service:\n${out}`);
    }
    assert.match(out, /X-Kept: yes\r\n/);
  });

  test("writeRequestHead() takes petit's sign-in cookie out of Cookie and keeps the visitor's other cookies", () => {
    const out = request("GET / HTTP/1.1\r\nHost: h\r\nCookie: a=1; __Host-petit=1.2.mac; b=2\r\nCookie: c=3\r\nX-Kept: yes\r\n\r\n");
    assert.ok(!out.includes("__Host-petit"), `petit's cookie reached the service:\n${out}`);
    assert.match(out, /\r\ncookie: a=1; b=2\r\nCookie: c=3\r\n/, "each Cookie line on its own, as sent");
    assert.match(out, /X-Kept: yes\r\n/);
    const alone = request("GET / HTTP/1.1\r\nHost: h\r\nCookie: __Host-petit=1.2.mac\r\n\r\n");
    assert.ok(!/cookie/i.test(alone), `an empty Cookie reached the service:\n${alone}`);
  });

  test("writeRequestHead() passes Cookie as sent when petit's cookie is not in it", () => {
    const out = request("GET / HTTP/1.1\r\nHost: h\r\nCookie: a=1;b=2\r\n\r\n");
    assert.match(out, /\r\nCookie: a=1;b=2\r\n/);
  });

  test("writeRequestHead() never drops framing fields, even when Connection names them", () => {
    const out = request("POST / HTTP/1.1\r\nHost: h\r\nConnection: content-length\r\nContent-Length: 5\r\n\r\n");
    assert.match(out, /Content-Length: 5\r\n/);
  });

  test("writeRequestHead() extends a trusted proxy's X-Forwarded-For and keeps its X-Forwarded-Proto and -Host", () => {
    const trustedProxies = new BlockList();
    trustedProxies.addAddress("10.0.0.1");
    const out = request("GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 198.51.100.9\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: public.example\r\n\r\n",
      { trustedProxies }, false, "10.0.0.1");
    assert.match(out, /x-forwarded-for: 198\.51\.100\.9, 10\.0\.0\.1\r\nx-real-ip: 198\.51\.100\.9\r\nx-forwarded-proto: https\r\nx-forwarded-host: public\.example\r\n/);
  });

  test("writeRequestHead() passes Upgrade on with Connection: Upgrade for an upgrade", () => {
    const out = request("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", {}, true);
    assert.match(out, /Upgrade: websocket\r\nconnection: Upgrade\r\n/);
  });
});

describe("writeResponseHead()", () => {
  test("writeResponseHead() answers HTTP/1.1 with the service's status line and end-to-end fields", () => {
    const out = response("HTTP/1.0 404 Gone Away\r\nX-A: 1\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n");
    assert.equal(out, "HTTP/1.1 404 Gone Away\r\nX-A: 1\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n");
  });

  test("writeResponseHead() drops the service's hop-by-hop fields and those its Connection names, and sets its own framing", () => {
    const out = response("HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Internal\r\nX-Internal: secret\r\nKeep-Alive: timeout=5\r\n" +
      "Transfer-Encoding: chunked\r\nTrailer: X-T\r\nX-A: 1\r\n\r\n", { chunked: true, close: true, upgraded: false });
    assert.equal(out, "HTTP/1.1 200 OK\r\nX-A: 1\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n");
  });

  test("writeResponseHead() keeps Upgrade and Connection on a 101", () => {
    const out = response("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n",
      { chunked: false, close: false, upgraded: true });
    assert.equal(out, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n");
  });
});
