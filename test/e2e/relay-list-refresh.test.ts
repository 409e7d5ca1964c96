/**
 * Issue 16: "each connect gives [a client] the current list of SSH
 * endpoints". Relays share a real PostgreSQL; a client registers when there
 * are two, a third starts afterwards. After its next connect the client asks
 * the relay it is on for the signed list: the third relay becomes a failover
 * target (its key pinned), a relay that left the store's list stops being
 * one, and when the relay in use dies the client moves to the new one.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { parse } from "smol-toml";
import pg from "pg";
import { registerClient, startRelay, viaProxy, waitFor, DOMAIN, type Client, type Relay } from "../helpers/fixture.ts";
import { clientStatus, killTree, pidFrom, signal } from "../helpers/faults.ts";
import { startOrigin } from "../helpers/origin.ts";
import { petitOk } from "../helpers/petit.ts";
import { freeRange } from "../helpers/ports.ts";
import { postgresSkipReason, startPostgres, type TestPostgres } from "../helpers/postgres.ts";

const skip = postgresSkipReason();

describe("a client's relay list, refreshed after each connect", { skip }, () => {
  let postgres: TestPostgres;
  let store: string;
  let first: number;
  const relays: Relay[] = [];
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let client: Client;

  /** The client's `client.relays` in config.toml. */
  const configured = () => (parse(readFileSync(join(client.home, "config.toml"), "utf8")) as { client: { relays: string[] } }).client.relays;
  const pinned = () => readFileSync(join(client.home, "client/known_hosts"), "utf8");
  const keyOf = (relay: Relay) => readFileSync(join(relay.home, "server/ssh_host_ed25519_key.pub"), "utf8").split(" ")[1];
  const log = () => (existsSync(join(client.home, "client/clientd.log")) ? readFileSync(join(client.home, "client/clientd.log"), "utf8") : "");
  const endpoint = (relay: Relay) => `127.0.0.1:${relay.sshPort}`;
  const withLog = (error: Error) => {
    throw new Error(`${error.message}\nclient log:\n${log().split("\n").slice(-15).join("\n")}`);
  };
  const startOne = () => startRelay({ rangeSize: 100, config: { store, port_range: `${first}-${first + 99}` } });

  before(async () => {
    postgres = await startPostgres();
    store = await postgres.createDatabase("petit");
    origin = await startOrigin("behind-the-relays");
    first = await freeRange(100);
    relays.push(await startOne(), await startOne());
  });

  after(async () => {
    await client?.stop();
    for (const relay of relays) await relay.stop();
    await origin?.close();
    await postgres?.stop();
  });

  test("a registration with two relays lists the other one, its host key pinned", async () => {
    client = await registerClient(relays[0], { name: "follows", target: `127.0.0.1:${origin.port}` });
    assert.deepEqual(configured(), [endpoint(relays[1])]);
    assert.ok(pinned().includes(keyOf(relays[0])) && pinned().includes(keyOf(relays[1])), pinned());
  });

  test("a relay started after the registration becomes a failover target at the client's next connect, its key pinned", async () => {
    relays.push(await startOne());
    const started = Date.now();
    await client.up();
    await waitFor(() => configured().includes(endpoint(relays[2])), 30_000, "the client to list the third relay").catch(withLog);
    console.log(`RELAYS {"up_to_new_relay_listed_ms":${Date.now() - started}}`);
    assert.deepEqual(configured().sort(), [endpoint(relays[1]), endpoint(relays[2])].sort());
    assert.ok(pinned().includes(keyOf(relays[2])), "the new relay's key is pinned");
    assert.match(log(), new RegExp(`relays: the list from ${endpoint(relays[0])} changed: .*added ${endpoint(relays[2])}`));
    // The working ssh was not restarted for it.
    assert.equal((await clientStatus(client))?.restarts, 0);
  });

  test("a relay that left the store's list stops being a failover target at the next connect, its key unpinned", async () => {
    // Relay B goes away for good: stopped, and its row as old as a relay that stopped stamping it (three heartbeats).
    await petitOk(relays[1].home, ["server", "down"]);
    const db = new pg.Client({ connectionString: store });
    await db.connect();
    try {
      await db.query("UPDATE petit_nodes SET seen = now() - interval '1 hour' WHERE name = $1", [`${hostname()}:${relays[1].httpPort}`]);
    } finally {
      await db.end();
    }
    // A new connect to relay A: its ssh ends (not a network failure, so the client stays on A).
    signal(pidFrom(join(client.home, "client/ssh.pid")), "SIGKILL");
    await waitFor(() => !configured().includes(endpoint(relays[1])), 30_000, "the client to drop relay B").catch(withLog);
    assert.deepEqual(configured(), [endpoint(relays[2])]);
    assert.ok(!pinned().includes(keyOf(relays[1])), "relay B's key is no longer pinned");
    assert.equal((await clientStatus(client))?.ssh_endpoint, endpoint(relays[0]));
  });

  test("when relay A dies, the client moves to the relay it learnt of after registering (not the one that left) within 15 s", async () => {
    const host = `${client.id}.${DOMAIN}`;
    const bearer = { "proxy-authorization": `Bearer ${client.accessToken}` };
    await waitFor(async () => (await viaProxy(relays[0], host)).status === 200, 20_000, "the tunnel through relay A");
    const killed = Date.now();
    killTree(pidFrom(join(relays[0].home, "server/sshd.pid"))!);
    signal(pidFrom(join(relays[0].home, "server/serverd.pid")), "SIGKILL");
    await waitFor(async () => (await clientStatus(client))?.ssh_endpoint === endpoint(relays[2]) &&
      (await viaProxy(relays[2], host, "/", { headers: bearer })).status === 200, 30_000, "the client to serve through relay C").catch(withLog);
    const ms = Date.now() - killed;
    console.log(`RELAYS {"failover_to_relay_learnt_after_registration_ms":${ms}}`);
    assert.ok(ms < 15_000, `the tunnel took ${ms} ms to come back through relay C`);
    assert.doesNotMatch(log(), new RegExp(`moving to relay ${endpoint(relays[1])}`));
  });
});
