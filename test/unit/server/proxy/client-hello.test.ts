/**
 * parseClientHello(): the SNI and ALPN of a TLS ClientHello, read from real
 * ClientHellos (node's tls.connect against a raw TCP server that keeps the
 * bytes), then from those same hellos cut, re-framed and altered field by
 * field: one test per production and per refusal, and a fuzz run.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { connect, type ConnectionOptions } from "node:tls";
import { MAX_CLIENT_HELLO, parseClientHello } from "../../../../lib/server/proxy/client-hello.ts";

let server: Server;
let port: number;
const waiting: ((bytes: Buffer) => void)[] = [];

/** The first record a TLS client sends with `options` (its ClientHello, as on the wire). */
function captureHello(options: ConnectionOptions): Promise<Buffer> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    const client = connect({ host: "127.0.0.1", port, rejectUnauthorized: false, ...options });
    client.on("error", () => {});
    setTimeout(() => client.destroy(), 2_000).unref();
  });
}

before(async () => {
  server = createServer((socket) => {
    let bytes = Buffer.alloc(0);
    socket.on("data", (chunk) => {
      bytes = Buffer.concat([bytes, chunk]);
      if (bytes.length >= 5 && bytes.length >= 5 + bytes.readUInt16BE(3)) {
        waiting.shift()?.(bytes.subarray(0, 5 + bytes.readUInt16BE(3)));
        socket.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** A single-record hello taken apart: everything before the extensions, and each extension. */
interface Parts {
  fixed: Buffer;
  extensions: { type: number; data: Buffer }[];
}

/** Splits a real single-record hello (the test's own walk: lengths trusted, they are node's). */
function split(record: Buffer): Parts {
  const body = record.subarray(9);
  let at = 34;
  at += 1 + body[at];
  at += 2 + body.readUInt16BE(at);
  at += 1 + body[at];
  const fixed = body.subarray(0, at);
  const extensions: Parts["extensions"] = [];
  for (at += 2; at < body.length;) {
    const length = body.readUInt16BE(at + 2);
    extensions.push({ type: body.readUInt16BE(at), data: body.subarray(at + 4, at + 4 + length) });
    at += 4 + length;
  }
  return { fixed, extensions };
}

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u24 = (n: number) => Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);
const record = (fragment: Buffer, type = 22) => Buffer.concat([Buffer.from([type, 3, 1]), u16(fragment.length), fragment]);

/** Puts parts together again as one handshake message (type 1 unless said), lengths computed. */
function message(parts: Parts, type = 1): Buffer {
  const extensions = Buffer.concat(parts.extensions.flatMap((e) => [u16(e.type), u16(e.data.length), e.data]));
  const body = Buffer.concat([parts.fixed, u16(extensions.length), extensions]);
  return Buffer.concat([Buffer.from([type]), u24(body.length), body]);
}
const build = (parts: Parts) => record(message(parts));
/** `parts` with extension `type`'s data replaced (or added). */
const withExtension = (parts: Parts, type: number, data: Buffer): Parts => ({
  fixed: parts.fixed,
  extensions: [...parts.extensions.filter((e) => e.type !== type), { type, data }],
});
const alpnData = (...names: string[]) => {
  const list = Buffer.concat(names.map((n) => Buffer.concat([Buffer.from([n.length]), Buffer.from(n, "latin1")])));
  return Buffer.concat([u16(list.length), list]);
};
const sniData = (...entries: [number, string][]) => {
  const list = Buffer.concat(entries.map(([type, name]) => Buffer.concat([Buffer.from([type]), u16(name.length), Buffer.from(name, "latin1")])));
  return Buffer.concat([u16(list.length), list]);
};

describe("parseClientHello() on real ClientHellos", () => {
  test("parseClientHello() reads the server name and the ALPN protocols of node's ClientHello", async () => {
    const hello = await captureHello({ servername: "1001.relay.example.com", ALPNProtocols: ["acme-tls/1"] });
    assert.deepEqual(parseClientHello(hello), { serverName: "1001.relay.example.com", alpn: ["acme-tls/1"] });
    const browserLike = await captureHello({ servername: "web.relay.example.com", ALPNProtocols: ["h2", "http/1.1"] });
    assert.deepEqual(parseClientHello(browserLike), { serverName: "web.relay.example.com", alpn: ["h2", "http/1.1"] });
  });

  test("parseClientHello() gives no ALPN for a hello without the extension, and no name for one without SNI", async () => {
    assert.deepEqual(parseClientHello(await captureHello({ servername: "web.relay.example.com" })), { serverName: "web.relay.example.com" });
    // node sends no SNI when connecting to an IP address without a servername.
    assert.deepEqual(parseClientHello(await captureHello({ ALPNProtocols: ["acme-tls/1"] })), { alpn: ["acme-tls/1"] });
  });

  test("parseClientHello() lower-cases the server name and reads a TLS 1.2-only hello", async () => {
    const hello = await captureHello({ servername: "Web.Relay.Example.COM", maxVersion: "TLSv1.2", ALPNProtocols: ["acme-tls/1"] });
    assert.deepEqual(parseClientHello(hello), { serverName: "web.relay.example.com", alpn: ["acme-tls/1"] });
  });

  test("parseClientHello() ignores what follows the hello (the client's next records are TLS's)", async () => {
    const hello = await captureHello({ servername: "a.example.com", ALPNProtocols: ["acme-tls/1"] });
    const next = record(Buffer.from([1]), 20);
    assert.deepEqual(parseClientHello(Buffer.concat([hello, next, Buffer.from("junk")])), { serverName: "a.example.com", alpn: ["acme-tls/1"] });
  });

  test("parseClientHello() joins a hello split over several handshake records", async () => {
    const hello = await captureHello({ servername: "a.example.com", ALPNProtocols: ["acme-tls/1"] });
    const msg = hello.subarray(5);
    for (const cuts of [[2], [4], [40, 41], [3, 100, msg.length - 1]]) {
      const bounds = [0, ...cuts, msg.length];
      const records = Buffer.concat(bounds.slice(1).map((end, i) => record(msg.subarray(bounds[i], end))));
      assert.deepEqual(parseClientHello(records), { serverName: "a.example.com", alpn: ["acme-tls/1"] }, `cut at ${cuts}`);
    }
  });

  test("parseClientHello() asks for more at every cut of a hello, in one record or several", async () => {
    const hello = await captureHello({ servername: "a.example.com", ALPNProtocols: ["h2"] });
    for (let end = 0; end < hello.length; end++) assert.equal(parseClientHello(hello.subarray(0, end)), "more", `first ${end} bytes`);
    const msg = hello.subarray(5);
    const two = Buffer.concat([record(msg.subarray(0, 50)), record(msg.subarray(50))]);
    for (let end = 0; end < two.length; end++) assert.equal(parseClientHello(two.subarray(0, end)), "more", `first ${end} bytes of two records`);
  });
});

describe("parseClientHello() refusals", () => {
  let parts: Parts;
  before(async () => {
    parts = split(await captureHello({ servername: "a.example.com", ALPNProtocols: ["acme-tls/1"] }));
    assert.deepEqual(parseClientHello(build(parts)), { serverName: "a.example.com", alpn: ["acme-tls/1"] }, "the test's re-assembly");
  });
  const refuses = (bytes: Buffer, rule: RegExp) => {
    const result = parseClientHello(bytes);
    assert.equal(typeof result, "string", `expected a refusal, got ${JSON.stringify(result)}`);
    assert.notEqual(result, "more");
    assert.match(result as string, rule);
  };

  test("parseClientHello() refuses what is not a TLS handshake record: HTTP, application data, SSL 2 framing", () => {
    refuses(Buffer.from("GET / HTTP/1.1\r\nHost: a.example.com\r\n\r\n"), /not a TLS handshake record \(content type 71/);
    refuses(record(Buffer.from("hello"), 23), /content type 23/);
    refuses(Buffer.from([0x80, 0x2e, 0x01, 0x03, 0x01, 0, 0]), /not a TLS handshake record/);
    const wrongVersion = build(parts);
    wrongVersion[1] = 2;
    refuses(wrongVersion, /legacy_record_version/);
  });

  test("parseClientHello() refuses a first handshake message that is not client_hello", () => {
    refuses(record(message(parts, 2)), /type 2, not client_hello/);
  });

  test("parseClientHello() refuses oversized lengths: record, hello, session id, cipher suites, extensions", () => {
    const big = build(parts);
    big.writeUInt16BE(16_385, 3);
    refuses(big, /record of 16385 bytes, over 2\^14/);
    refuses(record(Buffer.concat([Buffer.from([1]), u24(MAX_CLIENT_HELLO + 1)])), new RegExp(`ClientHello of ${MAX_CLIENT_HELLO + 1} bytes`));
    refuses(record(Buffer.alloc(0)), /empty handshake fragment/);
    const session = Buffer.from(parts.fixed);
    session[34] = 33;
    refuses(build({ ...parts, fixed: session }), /legacy_session_id of 33 bytes/);
    const suitesAt = 35 + parts.fixed[34];
    const odd = Buffer.from(parts.fixed);
    odd.writeUInt16BE(3, suitesAt);
    refuses(build({ ...parts, fixed: odd }), /cipher_suites of 3 bytes|extensions of/);
    const longer = build(parts);
    const extensionsAt = 9 + parts.fixed.length;
    longer.writeUInt16BE(longer.readUInt16BE(extensionsAt) + 1, extensionsAt);
    refuses(longer, /extensions of \d+ bytes in \d+ left/);
    const fixedOnly = record(Buffer.concat([Buffer.from([1]), u24(parts.fixed.length + 1), parts.fixed, Buffer.from([0])]));
    refuses(fixedOnly, /ends inside the extensions' length/);
  });

  test("parseClientHello() refuses a hello cut short inside its fixed fields, its extensions or an extension", () => {
    refuses(record(Buffer.concat([Buffer.from([1]), u24(20), Buffer.alloc(20)])), /shorter than its fixed fields/);
    // The extension block's (and the hello's) last 3 bytes: an extension header one byte short.
    const extensions = Buffer.concat([...parts.extensions.flatMap((e) => [u16(e.type), u16(e.data.length), e.data]), Buffer.from([0xfe, 0x01, 0x00])]);
    const body = Buffer.concat([parts.fixed, u16(extensions.length), extensions]);
    refuses(record(Buffer.concat([Buffer.from([1]), u24(body.length), body])), /extension cut short in its header/);
    const overlong = withExtension(parts, 0xfe01, Buffer.alloc(4));
    const bytes = build(overlong);
    bytes.writeUInt16BE(9, bytes.length - 6);
    refuses(bytes, /extension 65025 of 9 bytes in 4 left/);
  });

  test("parseClientHello() refuses an extension that appears twice", () => {
    refuses(build({ fixed: parts.fixed, extensions: [...parts.extensions, { type: 16, data: alpnData("h2") }] }), /extension 16 twice/);
  });

  test("parseClientHello() refuses a malformed server_name extension", () => {
    refuses(build(withExtension(parts, 0, Buffer.from([0, 9, 0, 0, 1, 0x61]))), /server_name list whose length/);
    refuses(build(withExtension(parts, 0, Buffer.from([0, 3, 0, 0, 5]))), /server_name of 5 bytes in 0 left/);
    refuses(build(withExtension(parts, 0, sniData([0, "a.example.com"], [0, "b.example.com"]))), /two host_name entries/);
    refuses(build(withExtension(parts, 0, sniData([1, "other"]))), /without a host_name/);
    for (const name of ["a.example.com.", "a b.example.com", "a.example.com\0evil", "-a.example.com", "é.example.com", "a..example.com"]) {
      refuses(build(withExtension(parts, 0, sniData([0, name]))), /host_name that is not a DNS name/);
    }
  });

  test("parseClientHello() refuses a malformed ALPN extension", () => {
    refuses(build(withExtension(parts, 16, Buffer.from([0, 0]))), /empty ALPN list/);
    refuses(build(withExtension(parts, 16, Buffer.from([0, 5, 10, 0x61]))), /ALPN list whose length/);
    refuses(build(withExtension(parts, 16, Buffer.from([0, 2, 0, 0x61]))), /ALPN protocol of 0 bytes/);
    refuses(build(withExtension(parts, 16, Buffer.from([0, 3, 5, 0x61, 0x62]))), /ALPN protocol of 5 bytes in 2 left/);
  });

  test("parseClientHello() never throws on random damage to a real hello", () => {
    const hello = build(parts);
    let seed = 17;
    const random = (n: number) => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % n;
    for (let round = 0; round < 20_000; round++) {
      const bytes = Buffer.from(hello.subarray(0, hello.length - random(8)));
      for (let flips = 1 + random(4); flips > 0; flips--) bytes[random(bytes.length)] = random(256);
      const result = parseClientHello(bytes);
      assert.ok(typeof result === "string" || typeof result === "object", `round ${round}`);
    }
  });
});
