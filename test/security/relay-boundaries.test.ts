/**
 * Attacks on the relay's trust boundaries, performed through the real relay
 * (sshd, API, proxy) and the real CLI: a stranger on the SSH port, a holder
 * of the enrollment token and somebody's public key, a revoked client.
 * Each must fail, and other clients must not notice.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { request } from "undici";
import { SIGNATURE_HEADER } from "../../lib/constants.ts";
import { signWithKey } from "../../lib/ssh/signature.ts";
import { registerClient, startRelay, viaProxy, waitFor, type Client, type Relay } from "../helpers/fixture.ts";
import { startOrigin } from "../helpers/origin.ts";
import { petitOk } from "../helpers/petit.ts";
import { clientSshArgs, killAllSshSessions, sshAsClient } from "../helpers/ssh-as-client.ts";
import { registrationHeaders, signAs, signingKeyLine } from "../helpers/signing-keys.ts";

const sshPid = (client: Client) => Number(readFileSync(join(client.home, "client/ssh.pid"), "utf8"));
const clientKey = (client: Client) => join(client.home, "client/id_ed25519");
const publicKey = (client: Client) => readFileSync(`${clientKey(client)}.pub`, "utf8").trim();

/** Sends one line to the relay's SSH port as a stranger would (no key, no SSH at all) and waits for sshd to hang up. */
function sendLine(port: number, line: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () => socket.end(line));
    socket.on("error", () => resolve());
    socket.on("close", () => resolve());
    socket.resume();
    socket.setTimeout(5_000, () => socket.destroy());
  });
}

/** POSTs `body` to the relay API's `path` with `headers`; returns status and parsed answer. */
async function post(relay: Relay, path: string, body: string, headers: Record<string, string>) {
  const res = await request(`${relay.apiUrl}${path}`, { method: "POST", body, headers, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const text = await res.body.text();
  return { status: res.statusCode, json: JSON.parse(text) as Record<string, unknown> };
}

/** A signed request to free `port` of client `id`, as `petit-clientd` sends it. */
async function releaseRequest(id: number, port: number, keyFile: string) {
  const body = JSON.stringify({ id, port, t: Math.floor(Date.now() / 1000), n: randomBytes(16).toString("hex") });
  return { body, headers: { "content-type": "application/json", [SIGNATURE_HEADER]: await signWithKey(keyFile, "release-port@petit", body) } };
}

describe("relay trust boundaries", () => {
  let relay: Relay;
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let victim: Client;

  before(async () => {
    origin = await startOrigin("boundaries-origin");
    relay = await startRelay({ config: { ssh_max_startups_per_source: 4 } });
    victim = await registerClient(relay, { name: "victim", target: `127.0.0.1:${origin.port}` });
    await victim.up();
  });

  after(async () => {
    await killAllSshSessions();
    await victim?.stop();
    await relay?.stop();
    await origin?.close();
  });

  test("lines a stranger makes sshd log (its stale-port message among them) do not cut anybody's tunnel", async () => {
    const before = sshPid(victim);
    const bait = `bind [127.0.0.1]:${victim.port}: Address already in use`;
    let failed = 0;
    // What sshd quotes from a peer: an identification line, with and without a believable prefix.
    for (let i = 0; i < 12; i++) {
      await sendLine(relay.sshPort, i % 2 ? `${bait}\r\n` : `SSH-2.0-x ${bait}\r\nerror: ${bait}\r\n`);
      if ((await viaProxy(relay, `victim.petit.test`)).status !== 200) failed++;
      await new Promise((r) => setTimeout(r, 100));
    }
    const log = readFileSync(join(relay.home, "server/sshd.log"), "utf8");
    assert.match(log, new RegExp(bait.replace(/[[\].]/g, "\\$&")), "sshd did not log the stranger's text: the attack was not performed");
    assert.equal(failed, 0, "requests to the victim failed while a stranger wrote sshd's log");
    assert.equal(sshPid(victim), before, "the victim's ssh was cut and restarted");
  });

  test("a port release not signed by the port owner's key ends nothing, and a signed one is accepted once", async () => {
    const before = sshPid(victim);
    const stranger = signingKeyLine();
    const body = JSON.stringify({ id: victim.id, port: victim.port, t: Math.floor(Date.now() / 1000), n: randomBytes(16).toString("hex") });
    const forged = await post(relay, "/v1/release", body, {
      "content-type": "application/json", [SIGNATURE_HEADER]: signAs(stranger, "release-port@petit", body),
    });
    assert.equal(forged.status, 401);
    assert.equal((await post(relay, "/v1/release", body, { "content-type": "application/json" })).status, 401);
    // The owner's signature made for another purpose (a registration) does not free a port either.
    const wrongPurpose = await signWithKey(clientKey(victim), "register@petit", body);
    assert.equal((await post(relay, "/v1/release", body, { "content-type": "application/json", [SIGNATURE_HEADER]: wrongPurpose })).status, 401);
    assert.equal((await viaProxy(relay, "victim.petit.test")).status, 200);
    assert.equal(sshPid(victim), before, "a forged release ended the victim's session");

    const good = await releaseRequest(victim.id, victim.port, clientKey(victim));
    const first = await post(relay, "/v1/release", good.body, good.headers);
    assert.equal(first.status, 200, JSON.stringify(first.json));
    assert.equal(first.json.sessions_ended, 1);
    const replay = await post(relay, "/v1/release", good.body, good.headers);
    assert.equal(replay.status, 401);
    assert.match(String(replay.json.error), /already used/);
    // The owner's own release cut its session: its supervisor brings the tunnel back.
    await waitFor(async () => (await viaProxy(relay, "victim.petit.test")).status === 200, 20_000, "the victim's tunnel to return");
  });

  test("holding the enrollment token and a client's public key is not enough to act as that client", async () => {
    const registry = readFileSync(join(relay.home, "server/registry.json"), "utf8");
    const body = JSON.stringify({ public_key: publicKey(victim), name: "hijacked", tunnels: ["steal"] });
    const unsigned = await post(relay, "/v1/register", body, registrationHeaders(relay.token, body));
    assert.equal(unsigned.status, 401);
    assert.match(String(unsigned.json.error), /not signed with the private key/);
    assert.equal(unsigned.json.access_token, undefined);
    // Signed by another key than the one it names.
    const other = signingKeyLine();
    const headers = registrationHeaders(relay.token, body);
    headers[SIGNATURE_HEADER] = signAs(other, "register@petit", `${headers["x-petit-proof"]}\n${body}`);
    assert.equal((await post(relay, "/v1/register", body, headers)).status, 401);
    assert.equal(readFileSync(join(relay.home, "server/registry.json"), "utf8"), registry, "registry.json changed");
    // The real client, with its key, still re-registers (petit register signs).
    await petitOk(victim.home, ["register", relay.apiUrl, "--token", relay.token, "--to", `127.0.0.1:${origin.port}`, "--name", "victim"]);
  });

  test("a revoked client's session that has not opened its forward yet is ended, and its port goes to nobody else", async () => {
    const intruder = await registerClient(relay, { name: "intruder", target: `127.0.0.1:${origin.port}` });
    const socket = join(tmpdir(), `petit-mux-${process.pid}-${Date.now()}`);
    // A session of the key with no forward (yet): a multiplexing master that could ask for -R later.
    const base = clientSshArgs(intruder.home).join(" ").replace("-o ControlMaster=no -o ControlPath=none", "").split(" ").filter(Boolean);
    const master = spawn("ssh", [...base, "-o", "ControlMaster=yes", "-o", `ControlPath=${socket}`, "-N", "127.0.0.1"], { stdio: "ignore" });
    const masterGone = new Promise((resolve) => master.once("exit", resolve));
    try {
      const check = () => new Promise<number | null>((resolve) => {
        spawn("ssh", ["-o", `ControlPath=${socket}`, "-O", "check", "127.0.0.1"], { stdio: "ignore" }).once("exit", resolve);
      });
      await waitFor(async () => (await check()) === 0, 15_000, "the intruder's master session to log in");
      await petitOk(relay.home, ["server", "revoke", "intruder"]);
      const ended = await Promise.race([masterGone.then(() => true), new Promise((r) => setTimeout(() => r(false), 10_000))]);
      assert.ok(ended, "the revoked key's session without a forward is still open");
      const next = await registerClient(relay, { name: "next", target: `127.0.0.1:${origin.port}` });
      try {
        assert.notEqual(next.port, intruder.port, "a revoked client's port went straight to a new client");
      } finally {
        await next.stop();
      }
    } finally {
      if (master.exitCode === null) master.kill("SIGKILL");
      await intruder.stop();
    }
  });

  test("a second session of a key that forwards nothing is ended after the grace, and the key's tunnel is untouched", { timeout: 90_000 }, async () => {
    const before = sshPid(victim);
    // The victim's own key, logged in again without a forward (ssh -N, no -R): a session the relay has no use for.
    const idle = sshAsClient(victim.home, ["-N"], { timeoutMs: 80_000 });
    const started = Date.now();
    const code = await idle.exited;
    const lived = Date.now() - started;
    assert.ok(lived >= 20_000, `the idle session was ended after ${lived} ms, before its grace (stderr: ${idle.stderr()})`);
    assert.ok(lived < 75_000, `the idle session lived ${lived} ms`);
    assert.notEqual(code, null, "the idle session was still open when the test gave up on it");
    assert.equal(sshPid(victim), before, "the key's tunnel was cut");
    assert.equal((await viaProxy(relay, "victim.petit.test")).status, 200);
  });

  test("a revoked client's name is held, reserved names are refused, and a client holds at most 4 extra tunnels", async () => {
    const body = (name: string, tunnels: string[] = []) => JSON.stringify({ public_key: signingKeyLine(), name, tunnels });
    const send = (text: string) => post(relay, "/v1/register", text, registrationHeaders(relay.token, text));
    const leaving = await registerClient(relay, { name: "leaving", target: `127.0.0.1:${origin.port}` });
    await leaving.stop();
    await petitOk(relay.home, ["server", "revoke", "leaving"]);
    const taken = await send(body("leaving"));
    assert.equal(taken.status, 409);
    assert.match(String(taken.json.error), /belonged to client \d+ and is held until/);
    for (const name of ["www", "api", "localhost"]) {
      const reserved = await send(body(name));
      assert.equal(reserved.status, 409, name);
      assert.match(String(reserved.json.error), /is reserved/);
    }
    const many = await send(body("greedy", ["t1", "t2", "t3", "t4", "t5"]));
    assert.equal(many.status, 400);
    assert.match(String(many.json.error), /at most 4 names/);
    // The operator can free a revoked client's names at once.
    const freed = await registerClient(relay, { name: "freed", target: `127.0.0.1:${origin.port}` });
    await freed.stop();
    await petitOk(relay.home, ["server", "revoke", "freed", "--free-names"]);
    assert.equal((await send(body("freed"))).status, 201);
  });

  test("a registration captured on the wire is refused after a relay restart too", async () => {
    const text = JSON.stringify({ public_key: signingKeyLine() });
    const headers = registrationHeaders(relay.token, text);
    assert.equal((await post(relay, "/v1/register", text, headers)).status, 201);
    await petitOk(relay.home, ["server", "restart"]);
    const health = async () => (await request(`${relay.apiUrl}/v1/health`).then((r) => (r.body.dump(), r.statusCode), () => 0)) === 200;
    await waitFor(health, 15_000, "the relay's API to be back");
    const replay = await post(relay, "/v1/register", text, headers);
    assert.equal(replay.status, 401);
    assert.match(String(replay.json.error), /already used/);
  });

  test("one address cannot hold more unauthenticated SSH connections than server.ssh_max_startups_per_source", async () => {
    // Four silent connections (the limit set for this relay); sshd drops the fifth from the same address.
    const hold = Array.from({ length: 4 }, () => connect(relay.sshPort, "127.0.0.1"));
    try {
      await Promise.all(hold.map((s) => new Promise((resolve) => s.once("data", resolve))));
      const fifth = connect(relay.sshPort, "127.0.0.1");
      const banner = await new Promise<string>((resolve) => {
        let got = "";
        fifth.on("data", (chunk) => { got += chunk.toString(); });
        fifth.on("close", () => resolve(got));
        fifth.on("error", () => resolve(got));
        fifth.setTimeout(5_000, () => fifth.destroy());
      });
      assert.doesNotMatch(banner, /^SSH-2\.0-/, "sshd answered a fifth unauthenticated connection from one address");
    } finally {
      for (const s of hold) s.destroy();
    }
  });
});
