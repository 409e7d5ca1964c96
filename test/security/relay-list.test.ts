/**
 * Issue 16's security gap: the other relays' SSH endpoints and host keys
 * reach a client in answers that may travel over plain HTTP. Someone on the
 * path (here a proxy in front of a real relay's API) rewrites the answers of
 * `petit register` and of petit-clientd's refresh after a connect, to add a
 * rogue relay with the attacker's host key. The client must refuse every
 * such list — unsigned, signed by the wrong key, altered, expired, or older
 * than the one it has — keep its files as they were, and never connect to
 * the rogue endpoint. A control shows the same rogue entry is taken when the
 * relay's own key signs it, so the refusals are the checks' doing.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { request } from "undici";
import { parseRelayList, serializeRelayList, type RelayEntry, type RelayList } from "../../lib/protocol/relay-list.ts";
import { signWithKey } from "../../lib/ssh/signature.ts";
import { killFromPidFile, startRelay, waitFor, type Relay } from "../helpers/fixture.ts";
import { killTree, pidFrom, signal } from "../helpers/faults.ts";
import { makeHome, petit, petitOk } from "../helpers/petit.ts";
import { signAs, signingKeyLine } from "../helpers/signing-keys.ts";

type Answer = Record<string, unknown> & { relay_list?: { text: string; signature: string } };
/** How the proxy on the path rewrites a JSON answer; undefined passes it on unchanged. */
let rewrite: ((answer: Answer, path: string) => Promise<Answer>) | undefined;
/** Paths the proxy on the path rewrote, in order. */
const rewritten: string[] = [];

/** A proxy in front of `api` that rewrites its answers with `rewrite` (someone on the path of plain HTTP). */
async function startPathProxy(api: string): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k.startsWith("x-petit-") || k === "content-type")) as Record<string, string>;
    const upstream = await request(`${api}${req.url}`, { method: req.method as "POST", headers, body: Buffer.concat(chunks) });
    let text = await upstream.body.text();
    if (rewrite && upstream.statusCode < 300) {
      text = JSON.stringify(await rewrite(JSON.parse(text) as Answer, req.url!));
      rewritten.push(req.url!);
    }
    res.writeHead(upstream.statusCode, { "content-type": "application/json" }).end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe("a relay list rewritten on the way to the client", () => {
  let relay: Relay;
  let proxy: { url: string; server: Server };
  let client: { dir: string; remove(): void };
  let control: { dir: string; remove(): void };
  /** The attacker's endpoint: it counts the connections it gets (none are allowed). */
  let rogueListener: ReturnType<typeof createNetServer>;
  let rogueConnections = 0;
  let rogue: RelayEntry;
  const attackerKey = signingKeyLine();
  let honest: RelayList;

  before(async () => {
    relay = await startRelay();
    proxy = await startPathProxy(relay.apiUrl);
    client = makeHome("relay-list");
    control = makeHome("relay-list-control");
    rogueListener = createNetServer((socket) => {
      rogueConnections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => rogueListener.listen(0, "127.0.0.1", resolve));
    const port = (rogueListener.address() as AddressInfo).port;
    rogue = { name: "rogue:80", host: "127.0.0.1", port, api: `http://127.0.0.1:${port}`, host_key: attackerKey };
  });
  after(async () => {
    for (const home of [client, control]) {
      if (!home) continue;
      await petit(home.dir, ["down"]);
      killFromPidFile(join(home.dir, "client/clientd.pid"));
      killFromPidFile(join(home.dir, "client/ssh.pid"));
      home.remove();
    }
    await new Promise((resolve) => proxy?.server.close(resolve));
    await new Promise((resolve) => rogueListener?.close(resolve));
    await relay?.stop();
  });

  const register = (home = client) => petit(home.dir, ["register", proxy.url, "--token", relay.token, "--to", "127.0.0.1:1"]);
  /** The client's files a refused list must leave as they were. */
  const state = (home = client) => Object.fromEntries(["client/known_hosts", "config.toml", "client/relays.signed"]
    .map((file) => [file, readFileSync(join(home.dir, file), "utf8")]));
  /** `list` with the rogue relay added, in canonical form, signed by `sign`. */
  const withRogue = async (sign: (text: string) => Promise<string> | string, over: Partial<RelayList> = {}) => {
    const text = serializeRelayList({ ...honest, relays: [...honest.relays, rogue], ...over });
    return { text, signature: await sign(text) };
  };
  /** Signs as the relay itself, with its real host key file (a list it really issued, recorded by the attacker). */
  const asRelay = (text: string) => signWithKey(join(relay.home, "server/ssh_host_ed25519_key"), "petit-relays", text);

  test("a first registration takes the list the relay signed with the host key it pins", async () => {
    const first = await register();
    assert.equal(first.exitCode, 0, String(first.stderr));
    assert.doesNotMatch(String(first.stderr), /refused/);
    honest = parseRelayList(JSON.parse(readFileSync(join(client.dir, "client/relays.signed"), "utf8")).text);
    assert.deepEqual(honest.relays.map((r) => r.port), [relay.sshPort], "a relay alone lists itself");
    assert.equal(readFileSync(join(client.dir, "client/known_hosts"), "utf8").split("\n").filter(Boolean).length, 1);
  });

  const attacks: Array<[string, () => Promise<Answer["relay_list"] | undefined>, RegExp]> = [
    ["no list at all, the rogue relay in the old unsigned field", async () => undefined, /the answer carries no signed relay list/],
    ["a list the attacker signed with their own key", () => withRogue((t) => signAs(attackerKey, "petit-relays", t), { signer: "rogue:80" }),
      /not signed by the relay's pinned host key/],
    ["the relay's signature over a list the attacker altered", async () => {
      const forged = await withRogue(() => "");
      return { text: forged.text, signature: rewrittenFrom!.signature };
    }, /not signed by the relay's pinned host key/],
    ["a list the relay really signed, replayed after it expired", () => withRogue(asRelay, { issued: now() - 1300, expires: now() - 700 }),
      /expired \d+ s ago \(an old list replayed/],
    ["a list the relay really signed, older than the one the client has", () => withRogue(asRelay, { issued: honest.issued - 60, expires: now() + 300 }),
      /older than the one accepted before/],
  ];
  const now = () => Math.floor(Date.now() / 1000);
  let rewrittenFrom: Answer["relay_list"];

  for (const [attack, forge, reason] of attacks) {
    test(`petit register refuses ${attack}: the registration stands, nothing about the relays changes`, async () => {
      const kept = state();
      rewrite = async (answer) => {
        rewrittenFrom = answer.relay_list;
        const list = await forge();
        const { relay_list: _, ...rest } = answer;
        return { ...rest, ...(list ? { relay_list: list } : { relays: [{ ...rogue }] }) };
      };
      try {
        const result = await register();
        assert.equal(result.exitCode, 0, String(result.stderr));
        assert.match(String(result.stderr), /Relay list refused: /);
        assert.match(String(result.stderr), reason);
      } finally {
        rewrite = undefined;
      }
      assert.deepEqual(state(), kept, "a refused list changed the client's files");
      assert.doesNotMatch(state()["client/known_hosts"], new RegExp(attackerKey.split(" ")[1].replace(/[+/]/g, "\\$&")));
    });
  }

  test("control: the same rogue entry is taken when the relay's own key signed it (the refusals above are the checks')", async () => {
    assert.equal((await petit(control.dir, ["register", proxy.url, "--token", relay.token, "--to", "127.0.0.1:1"])).exitCode, 0);
    rewrite = async (answer) => ({ ...answer, relay_list: await withRogue(asRelay, { issued: now(), expires: now() + 600 }) });
    try {
      const result = await petit(control.dir, ["register", proxy.url, "--token", relay.token, "--to", "127.0.0.1:1"]);
      assert.equal(result.exitCode, 0, String(result.stderr));
      assert.doesNotMatch(String(result.stderr), /refused/);
    } finally {
      rewrite = undefined;
    }
    assert.match(state(control)["config.toml"], new RegExp(`relays = \\[ "127\\.0\\.0\\.1:${rogue.port}" \\]`));
  });

  test("after a connect petit-clientd refuses an altered list from the relay it is on, and never goes to the rogue relay, even when its relay dies", async () => {
    const kept = state();
    rewrite = async (answer, path) => {
      const forged = await withRogue(() => "", { issued: now(), expires: now() + 600 });
      return path === "/v1/relays" ? { relay_list: { text: forged.text, signature: answer.relay_list!.signature } } : answer;
    };
    await petitOk(client.dir, ["up"]);
    const log = () => (existsSync(join(client.dir, "client/clientd.log")) ? readFileSync(join(client.dir, "client/clientd.log"), "utf8") : "");
    await waitFor(() => /relays: list from 127\.0\.0\.1:\d+ refused: the relay list is not signed by the relay's pinned host key/.test(log()),
      30_000, "the client to refuse the altered list").catch((error) => {
      throw new Error(`${error.message}\nclient log:\n${log()}`);
    });
    assert.deepEqual(rewritten.slice(-1), ["/v1/relays"]);
    rewrite = undefined;
    assert.deepEqual(state(), kept, "a refused list changed the client's files");

    // The relay dies: the client has no other relay, and must not try the rogue one.
    const before = log().length;
    // kill -9 of petit-serverd first: alive, it would start its sshd again.
    signal(pidFrom(join(relay.home, "server/serverd.pid")), "SIGKILL");
    killTree(pidFrom(join(relay.home, "server/sshd.pid"))!);
    // Two attempts after the death: the one the death ended, and one against the dead relay.
    await waitFor(() => (log().slice(before).match(/tunnel: .*; retry \d+ in/g) ?? []).length >= 2, 60_000, "two retries after the relay died")
      .catch((error) => {
        throw new Error(`${error.message}\nclient log:\n${log().slice(before)}`);
      });
    assert.equal(rogueConnections, 0, "the client connected to the rogue relay");
    assert.doesNotMatch(log(), new RegExp(`moving to relay 127\\.0\\.0\\.1:${rogue.port}`));
  });
});
