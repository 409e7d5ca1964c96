/**
 * IPv6 end to end: a relay listening on "::", a client registering through
 * http://[::1]:PORT (so its ssh goes to ::1), a service on ::1 only, and a
 * visitor over IPv6 as well as IPv4. Skipped, with the reason, where the
 * machine has no IPv6 loopback.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { parse } from "smol-toml";
import { request } from "undici";
import { DOMAIN, registerClient, startRelay, type Client, type Relay } from "../helpers/fixture.ts";

/** An origin on ::1 only, answering with the address it was reached on; undefined without IPv6. */
async function startV6Origin(): Promise<{ server: Server; port: number } | undefined> {
  const server = createServer((req, res) => res.end(`reached ${req.socket.localAddress} ${req.url}`));
  try {
    await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "::1", resolve));
  } catch {
    return undefined;
  }
  return { server, port: (server.address() as { port: number }).port };
}

const probe = await startV6Origin();
probe?.server.close();

describe("IPv6 end to end", { skip: !probe && "this machine has no IPv6 loopback (::1)" }, () => {
  let origin: { server: Server; port: number };
  let relay: Relay;
  let client: Client;

  before(async () => {
    origin = (await startV6Origin())!;
    relay = await startRelay({ listen: "::" });
    client = await registerClient({ ...relay, apiUrl: `http://[::1]:${relay.apiPort}` }, { name: "six", target: `[::1]:${origin.port}` });
    await client.up();
  });

  after(async () => {
    await client?.stop();
    await relay?.stop();
    origin?.server.close();
  });

  test("a client registered through [::1] tunnels over IPv6 to a service on ::1 only", () => {
    const config = parse(readFileSync(join(client.home, "config.toml"), "utf8")).client as { ssh_host: string; target: string; relay: string };
    assert.equal(config.ssh_host, "::1");
    assert.equal(config.target, `[::1]:${origin.port}`);
    assert.equal(config.relay, `http://[::1]:${relay.apiPort}`);
  });

  test("a client registered through 127.0.0.1 tunnels over IPv4 to the same relay (sshd listens on both families)", async () => {
    const four = await registerClient(relay, { name: "four", target: `[::1]:${origin.port}` });
    try {
      await four.up();
      const res = await request(`http://127.0.0.1:${relay.httpPort}/v4`, {
        headers: { host: `four.${DOMAIN}`, "proxy-authorization": `Bearer ${four.accessToken}` },
      });
      assert.equal(res.statusCode, 200);
      assert.equal(await res.body.text(), "reached ::1 /v4");
    } finally {
      await four.stop();
    }
  });

  for (const [family, address] of [["IPv6", "[::1]"], ["IPv4", "127.0.0.1"]]) {
    test(`a visitor over ${family} reaches the IPv6 service through the relay`, async () => {
      const res = await request(`http://${address}:${relay.httpPort}/v6?x=1`, {
        headers: { host: `six.${DOMAIN}`, "proxy-authorization": `Bearer ${client.accessToken}` },
      });
      assert.equal(res.statusCode, 200);
      assert.equal(await res.body.text(), "reached ::1 /v6?x=1");
    });
  }
});
