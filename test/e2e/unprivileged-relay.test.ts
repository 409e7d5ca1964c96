/**
 * A relay run by an ordinary user instead of root: its sshd and
 * petit-serverd run as that user, tunnels log in as that user (the only
 * account a non-root sshd can serve), and everything works end to end.
 * The confinement of client keys under such a relay is proven in
 * confinement.test.ts.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse } from "smol-toml";
import { readPidFile } from "../../lib/proc/process.ts";
import { DOMAIN, registerClient, startRelay, viaProxy, type Client, type Relay } from "../helpers/fixture.ts";
import { startOrigin } from "../helpers/origin.ts";
import { petitOk, type Account } from "../helpers/petit.ts";
import { ensureTestUser } from "../helpers/test-user.ts";

const ROOT = process.getuid?.() === 0;

describe("a relay run by an unprivileged user", {
  skip: !ROOT && "needs root to create the test account (run as a non-root user, every relay test is already unprivileged)",
}, () => {
  let account: Account;
  let relay: Relay;
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let client: Client;

  before(async () => {
    account = await ensureTestUser();
    origin = await startOrigin("unprivileged-origin");
    relay = await startRelay({ as: account });
    client = await registerClient(relay, { name: "plain", target: `127.0.0.1:${origin.port}` });
    await client.up();
  });

  after(async () => {
    await client?.stop();
    await relay?.stop();
    await origin?.close();
  });

  /** The real user ID process `pid` runs as. */
  const uidOf = (pid: number) => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);

  test("petit-serverd and its sshd run as that user, not root", () => {
    for (const name of ["serverd.pid", "sshd.pid"]) {
      const pid = readPidFile(join(relay.home, "server", name));
      assert.ok(pid, `${name} names a live process`);
      assert.equal(uidOf(pid), account.uid, `${name}: process ${pid}`);
    }
  });

  test("every file of the relay belongs to that user, and all but pid files and the public host key are 0600", () => {
    const dir = join(relay.home, "server");
    const names = readdirSync(dir);
    for (const secret of ["enroll.token", "control.secret", "ssh_host_ed25519_key", "registry.json", "authorized_keys"]) {
      assert.ok(names.includes(secret), `${secret} exists`);
    }
    for (const name of names) {
      const stat = statSync(join(dir, name));
      assert.equal(stat.uid, account.uid, `${name} is owned by uid ${stat.uid}`);
      const mode = (stat.mode & 0o777).toString(8);
      if (!/\.(pid|pub)$/.test(name)) assert.equal(mode, "600", `${name} has mode ${mode}`);
    }
  });

  test("the client was told to log in as that user, and a GET through the proxy reaches its origin", async () => {
    const config = parse(readFileSync(join(client.home, "config.toml"), "utf8")) as { client: { ssh_user: string } };
    assert.equal(config.client.ssh_user, account.name);
    const res = await viaProxy(relay, `plain.${DOMAIN}`, "/hi");
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.text).name, "unprivileged-origin");
  });

  test("the client's session on the relay runs as that user", () => {
    const sshd = readPidFile(join(relay.home, "server/sshd.pid"))!;
    const children = readFileSync(`/proc/${sshd}/task/${sshd}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
    assert.ok(children.length >= 1, "sshd has a session child");
    for (const pid of children) assert.equal(uidOf(pid), account.uid, `session process ${pid}`);
  });

  test("petit server clients, run as that user, shows the client online", async () => {
    const rows = JSON.parse(await petitOk(relay.home, ["server", "clients", "--json"], { as: account }));
    assert.deepEqual(rows.map((r: { name: string; online: boolean }) => [r.name, r.online]), [["plain", true]]);
  });
});
