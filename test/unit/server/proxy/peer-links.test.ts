/**
 * PeerLinks, the connections a visitor connection's requests take to the
 * relays holding their tunnels, against a real TCP server standing in for
 * the holder: a connection is kept for the next request to the same holder
 * on behalf of the same visitor only, each begins with the signed line
 * naming its visitor, and a holder that cannot be reached is named.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { PeerLinks } from "../../../../lib/server/proxy/forward-to-peer.ts";
import type { Tunnel } from "../../../../lib/server/proxy/tunnel-pool.ts";
import type { ProxyOptions, Route } from "../../../../lib/server/proxy/types.ts";
import { freePort } from "../../../helpers/ports.ts";

const options = { domain: "petit.test", log: () => undefined, peering: { secret: "ab".repeat(32), self: "relay-a" } } as unknown as ProxyOptions;

/** The holder: records the first line of each connection. */
let holder: Server;
let port: number;
const lines: string[] = [];
const sockets: Socket[] = [];
before(async () => {
  holder = createServer((socket) => {
    sockets.push(socket);
    let text = "";
    socket.on("data", (chunk) => {
      const had = text.includes("\n");
      text += chunk.toString("latin1");
      if (!had && text.includes("\n")) lines.push(text.slice(0, text.indexOf("\n")));
    });
  });
  await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
  port = (holder.address() as { port: number }).port;
});
after(() => {
  for (const socket of sockets) socket.destroy();
  holder.close();
});

const route = (address: string): Route => ({ id: 1001, port: 0, access: {} as Route["access"], peer: { node: "relay-b", address } });
const take = (source: ReturnType<PeerLinks["to"]>) => new Promise<Tunnel>((resolve) => source.acquire(resolve));
/** Waits until the holder has read `n` lines. */
async function linesRead(n: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (lines.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

test("a connection to the holder is kept for the same visitor's next request, never for another visitor's", async () => {
  const links = new PeerLinks(options);
  const first = links.to(route(`127.0.0.1:${port}`), "203.0.113.1");
  const t1 = await take(first);
  await linesRead(1);
  first.release(t1, true);
  const again = links.to(route(`127.0.0.1:${port}`), "203.0.113.1");
  const t2 = await take(again);
  assert.equal(t2, t1, "the same visitor's next request reuses the connection");
  again.release(t2, true);
  // A load balancer's connection carries many visitors: the line names one, so another gets its own connection.
  const other = links.to(route(`127.0.0.1:${port}`), "198.51.100.7");
  const t3 = await take(other);
  await linesRead(2);
  assert.notEqual(t3, t1);
  assert.ok(t1.ended || t1.socket.destroyed, "the connection kept for the first visitor is closed, not kept aside");
  other.release(t3, false);
  links.close();
  assert.equal(lines.length, 2, "two connections, each with its line");
  assert.match(lines[0], /^PETIT-NODE\/1 relay-a 203\.0\.113\.1 \d+ /);
  assert.match(lines[1], /^PETIT-NODE\/1 relay-a 198\.51\.100\.7 \d+ /);
});

test("a holder that refuses the connection is named in the reason the visitor gets", async () => {
  const closed = await freePort();
  const links = new PeerLinks(options);
  const tunnel = await take(links.to(route(`127.0.0.1:${closed}`), "203.0.113.1"));
  const reason = await new Promise<string>((resolve) => {
    tunnel.user = { onTunnelData: () => undefined, onTunnelDrain: () => undefined, onTunnelEnd: (_, error) => resolve(tunnel.describeEnd!(error)) };
  });
  assert.match(reason, new RegExp(`^tunnel 1001 is held by relay relay-b, which cannot be reached at 127\\.0\\.0\\.1:${closed}: connection refused`));
});
