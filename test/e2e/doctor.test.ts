/**
 * petit doctor end to end: a real relay and real clients, each check made to
 * fail for real (a stopped service, a revoked key, a port taken by another
 * program …), and the status, message and fix asserted.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execa } from "execa";
import { appendFileSync, chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer as createNetServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "smol-toml";
import { startOrigin } from "../helpers/origin.ts";
import { makeHome, petit, petitOk } from "../helpers/petit.ts";
import { freePort, freeRange } from "../helpers/ports.ts";
import { registerClient, startRelay, waitFor, type Client, type Relay } from "../helpers/fixture.ts";
import { ed25519Line } from "../unit/ssh-keys.ts";

interface Row {
  role: string;
  check: string;
  status: string;
  message: string;
  fix: string | null;
}

/** Runs `petit doctor --json` in `home` and returns its exit code and rows. */
async function doctor(home: string, extra: string[] = []): Promise<{ exitCode: number; rows: Row[]; row(role: string, check: string): Row }> {
  const result = await petit(home, ["doctor", "--json", ...extra]);
  let rows: Row[];
  try {
    rows = JSON.parse(String(result.stdout));
  } catch {
    throw new Error(`petit doctor printed no JSON (exit ${result.exitCode})\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  }
  return {
    exitCode: result.exitCode ?? -1, rows,
    row(role, check) {
      const found = rows.find((r) => r.role === role && r.check === check);
      if (!found) throw new Error(`no ${role}/${check} row in ${JSON.stringify(rows, null, 2)}`);
      return found;
    },
  };
}

/** Runs `use` with a copy of `home`'s config.toml changed by `edit`, passed as --config; removes the copy after. */
async function withConfig<T>(home: string, edit: (config: Record<string, Record<string, unknown>>) => void, use: (args: string[]) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "petit-doctor-config-"));
  try {
    const config = parse(readFileSync(join(home, "config.toml"), "utf8")) as Record<string, Record<string, unknown>>;
    edit(config);
    const file = join(dir, "config.toml");
    writeFileSync(file, stringify(config), { mode: 0o600 });
    return await use(["--config", file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes an executable that prints `version` on stderr like `ssh -V`; returns its path and a cleanup. */
function fakeOpenSsh(name: string, version: string): { path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "petit-doctor-bin-"));
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\necho "${version}" >&2\nexit 0\n`, { mode: 0o755 });
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts a plain TCP listener on `port` (0: any) of `host`, as "another program". */
async function occupy(port: number, host = "127.0.0.1"): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createNetServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return { port: (server.address() as { port: number }).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Restores a file's text and mode after `body`, even when it throws. */
async function restoring(path: string, body: () => Promise<void>): Promise<void> {
  const text = readFileSync(path);
  const mode = statSync(path).mode & 0o777;
  try {
    await body();
  } finally {
    writeFileSync(path, text);
    chmodSync(path, mode);
  }
}

describe("petit doctor", () => {
  let relay: Relay;
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let client: Client;
  const extraClients: Client[] = [];

  /** Registers a client that only this test uses; stopped in after() at the latest. */
  async function throwawayClient(target = `127.0.0.1:${origin.port}`): Promise<Client> {
    const extra = await registerClient(relay, { target });
    extraClients.push(extra);
    return extra;
  }

  before(async () => {
    origin = await startOrigin("doctor-origin");
    relay = await startRelay();
    client = await registerClient(relay, { name: "shop", target: `127.0.0.1:${origin.port}` });
    await client.up();
  });

  after(async () => {
    for (const extra of extraClients) await extra.stop();
    await client?.stop();
    await relay?.stop();
    await origin?.close();
  });

  test("a healthy relay and client pass every check and exit 0", async () => {
    const server = await doctor(relay.home);
    assert.deepEqual(server.rows.filter((r) => r.status !== "ok"), []);
    assert.equal(server.exitCode, 0);
    assert.deepEqual(server.rows.map((r) => r.check), [
      "config", "sshd", "sshd-config", "tunnel-account", "daemon", "store", "acme", "port-http", "port-https", "port-api", "port-control", "port-ssh", "port-range", "files", "registry",
    ]);
    assert.ok(server.rows.every((r) => r.role === "server" && r.fix === null));

    const local = await doctor(client.home);
    assert.deepEqual(local.rows.filter((r) => r.status !== "ok"), []);
    assert.equal(local.exitCode, 0);
    assert.deepEqual(local.rows.map((r) => r.check), [
      "config", "ssh", "key", "relay-dns", "relay-api", "relay-ssh", "clock", "host-key", "registration", "daemon", "tunnel", "target",
    ]);
    assert.match(local.row("client", "registration").message, /accepts this client's key SHA256:.* \(client 1001/);
    assert.match(local.row("client", "tunnel").message, /^connected since /);
  });

  test("the text report has one line per check and a summary", async () => {
    const result = await petit(client.home, ["doctor"]);
    assert.equal(result.exitCode, 0);
    const lines = String(result.stdout).trim().split("\n");
    assert.equal(lines.length, 13);
    assert.match(lines[0], /^ok {4}client {2}config {8}\[client\] in ".*config.toml" is valid$/);
    assert.equal(lines.at(-1), "12 ok, 0 warn, 0 fail");
  });

  test("an unknown key in config.toml fails the config check and names the key to remove", async () => {
    await withConfig(client.home, (c) => { c.client.colour = "red"; }, async (args) => {
      const result = await doctor(client.home, args);
      assert.equal(result.exitCode, 1);
      assert.equal(result.rows.length, 1);
      const row = result.row("client", "config");
      assert.equal(row.status, "fail");
      assert.match(row.message, /unknown key "client.colour"/);
      assert.match(row.fix!, /^remove "client.colour" from ".*config.toml"$/);
    });
  });

  test("an ssh older than 7.8 or missing fails the ssh check with the install command", async () => {
    const old = fakeOpenSsh("ssh", "OpenSSH_7.4p1, OpenSSL 1.0.2k-fips  26 Jan 2017");
    try {
      await withConfig(client.home, (c) => { c.client.ssh_path = old.path; }, async (args) => {
        const result = await doctor(client.home, args);
        assert.equal(result.exitCode, 1);
        const row = result.row("client", "ssh");
        assert.equal(row.status, "fail");
        assert.match(row.message, /is OpenSSH_7.4p1, older than OpenSSH 7.8 \(needed for permitlisten\)/);
        assert.match(row.fix!, /apt-get install openssh-client \(or set client.ssh_path/);
        assert.equal(result.row("client", "registration").status, "warn");
        assert.equal(result.row("client", "registration").message, 'not checked: "ssh" failed');
      });
    } finally {
      old.remove();
    }
    await withConfig(client.home, (c) => { c.client.ssh_path = "/nonexistent/ssh"; }, async (args) => {
      const row = (await doctor(client.home, args)).row("client", "ssh");
      assert.equal(row.status, "fail");
      assert.equal(row.message, 'cannot run ssh "/nonexistent/ssh": ENOENT');
    });
  });

  test("a client key readable by others fails the key check with chmod 600", async () => {
    const extra = await throwawayClient();
    const key = join(extra.home, "client/id_ed25519");
    chmodSync(key, 0o644);
    const result = await doctor(extra.home);
    assert.equal(result.exitCode, 1);
    const row = result.row("client", "key");
    assert.equal(row.status, "fail");
    assert.equal(row.message, `"${key}" has mode 0644: ssh refuses a private key that others can read`);
    assert.equal(row.fix, `chmod 600 "${key}"`);
    assert.equal(result.row("client", "registration").message, 'not checked: "key" failed');
  });

  test("a relay name that does not resolve fails the relay-dns check naming client.relay", async () => {
    await withConfig(client.home, (c) => {
      c.client.relay = `http://petit-doctor-test.invalid:${relay.apiPort}`;
    }, async (args) => {
      const result = await doctor(client.home, args);
      assert.equal(result.exitCode, 1);
      const row = result.row("client", "relay-dns");
      assert.equal(row.status, "fail");
      assert.match(row.message, /^cannot resolve "petit-doctor-test.invalid" \(client.relay\): (ENOTFOUND|EAI_AGAIN)/);
      assert.match(row.fix!, /client.relay of ".*config.toml"/);
    });
  });

  test("a closed API port fails relay-api but not relay-ssh, and a closed SSH port the other way round", async () => {
    const closed = await freePort();
    await withConfig(client.home, (c) => { c.client.relay = `http://127.0.0.1:${closed}`; }, async (args) => {
      const result = await doctor(client.home, args);
      assert.equal(result.exitCode, 1);
      const api = result.row("client", "relay-api");
      assert.equal(api.status, "fail");
      assert.equal(api.message, `the relay's API does not answer at http://127.0.0.1:${closed}/v1/health: ECONNREFUSED`);
      assert.match(api.fix!, new RegExp(`petit server up, and open TCP port ${closed} \\(server.api_port\\)`));
      assert.equal(result.row("client", "relay-ssh").status, "ok");
      assert.equal(result.row("client", "clock").message, 'not checked: "relay-api" failed');
    });
    await withConfig(client.home, (c) => { c.client.ssh_port = closed; }, async (args) => {
      const result = await doctor(client.home, args);
      assert.equal(result.row("client", "relay-api").status, "ok");
      const ssh = result.row("client", "relay-ssh");
      assert.equal(ssh.status, "fail");
      assert.equal(ssh.message, `cannot connect to the relay's SSH port 127.0.0.1:${closed}: ECONNREFUSED`);
      assert.match(ssh.fix!, /client.ssh_host \/ client.ssh_port/);
      assert.equal(result.row("client", "host-key").message, 'not checked: "relay-ssh" failed');
    });
  });

  test("a relay clock 400 s off fails the clock check, and 120 s off warns", async () => {
    let offset = 400_000;
    const fake = createHttpServer((req, res) => {
      res.setHeader("date", new Date(Date.now() - offset).toUTCString());
      res.end('{"ok":true}');
    });
    await new Promise<void>((resolve) => fake.listen(0, "127.0.0.1", resolve));
    try {
      const port = (fake.address() as { port: number }).port;
      await withConfig(client.home, (c) => { c.client.relay = `http://127.0.0.1:${port}`; }, async (args) => {
        const failed = (await doctor(client.home, args)).row("client", "clock");
        assert.equal(failed.status, "fail");
        assert.match(failed.message, /^this machine's clock is 40[01] s ahead of the relay's: beyond 300 s the relay refuses registrations$/);
        assert.match(failed.fix!, /timedatectl set-ntp true/);
        offset = -120_000;
        const warned = (await doctor(client.home, args)).row("client", "clock");
        assert.equal(warned.status, "warn");
        assert.match(warned.message, /^this machine's clock is 1(19|20|21) s behind the relay's/);
      });
    } finally {
      fake.closeAllConnections();
      await new Promise((resolve) => fake.close(resolve));
    }
  });

  test("a wrong relay key in client/known_hosts fails the host-key check with both fingerprints", async () => {
    const extra = await throwawayClient();
    const knownHosts = join(extra.home, "client/known_hosts");
    writeFileSync(knownHosts, `petit-relay ${ed25519Line()}\n`, { mode: 0o600 });
    const result = await doctor(extra.home);
    assert.equal(result.exitCode, 1);
    const row = result.row("client", "host-key");
    assert.equal(row.status, "fail");
    assert.match(row.message, new RegExp(`^the relay at 127.0.0.1:${relay.sshPort} presents host key SHA256:\\S+, but ".*known_hosts" pins SHA256:\\S+$`));
    const [presented, pinned] = [...row.message.matchAll(/SHA256:\S+/g)].map((m) => m[0].replace(/,$/, ""));
    assert.notEqual(presented, pinned);
    assert.match(row.fix!, new RegExp(`confirm ${presented.replace(/[+/]/g, "\\$&")} with its operator, then: petit register .* --fingerprint`));
    assert.equal(result.row("client", "registration").message, 'not checked: "host-key" failed');
  });

  test("a client revoked with petit server revoke fails the registration and tunnel checks with petit register as the fix", async () => {
    const extra = await throwawayClient();
    await extra.up();
    await petitOk(relay.home, ["server", "revoke", String(extra.id)]);
    await waitFor(async () => JSON.parse(String((await petit(extra.home, ["status", "--json"])).stdout)).state === "error", 20_000, "the revoked client's tunnel to give up");
    const result = await doctor(extra.home);
    assert.equal(result.exitCode, 1);
    const registration = result.row("client", "registration");
    assert.equal(registration.status, "fail");
    assert.match(registration.message, new RegExp(`refused this client's key SHA256:\\S+ at .* \\(Permission denied \\(publickey\\)\\): client ${extra.id} was revoked`));
    assert.match(registration.fix!, new RegExp(`^petit register ${relay.apiUrl} --token TOKEN --to 127.0.0.1:${origin.port} .*then petit down && petit up$`));
    const tunnel = result.row("client", "tunnel");
    assert.equal(tunnel.status, "fail");
    assert.match(tunnel.message, /^the tunnel is error after .*refused this client's key/);
    assert.match(tunnel.fix!, /^petit register /);
    assert.equal(result.row("client", "daemon").status, "ok");
  });

  test("a client whose daemon is not running fails the daemon check with petit up", async () => {
    const extra = await throwawayClient();
    const result = await doctor(extra.home);
    assert.equal(result.exitCode, 1);
    const row = result.row("client", "daemon");
    assert.equal(row.status, "fail");
    assert.match(row.message, /^petit-clientd has never run here/);
    assert.equal(row.fix, "petit up");
    assert.equal(result.row("client", "tunnel").message, 'not checked: "daemon" failed');
    assert.equal(result.row("client", "registration").status, "ok");
  });

  test("a stopped target service fails the target check naming client.target and petit register --to", async () => {
    const service = await startOrigin("doomed");
    const target = `127.0.0.1:${service.port}`;
    const extra = await throwawayClient(target);
    assert.equal((await doctor(extra.home)).row("client", "target").status, "ok");
    await service.close();
    const row = (await doctor(extra.home)).row("client", "target");
    assert.equal(row.status, "fail");
    assert.equal(row.message, `nothing answers at ${target} (client.target): ECONNREFUSED`);
    assert.match(row.fix!, new RegExp(`^start the service on ${target}, or point petit at the right one: set client.target in ".*" \\(or petit register .* --to HOST:PORT\\)`));
  });

  test("an sshd older than 7.8 fails the sshd check and skips sshd -t", async () => {
    const old = fakeOpenSsh("sshd", "OpenSSH_7.4p1, OpenSSL 1.0.2k-fips  26 Jan 2017");
    try {
      await withConfig(relay.home, (c) => { c.server.sshd_path = old.path; }, async (args) => {
        const result = await doctor(relay.home, args);
        assert.equal(result.exitCode, 1);
        const row = result.row("server", "sshd");
        assert.equal(row.status, "fail");
        assert.match(row.message, /is OpenSSH_7.4p1, older than OpenSSH 7.8/);
        assert.match(row.fix!, /^apt-get install openssh-server \(or set server.sshd_path/);
        assert.equal(result.row("server", "sshd-config").message, 'not checked: "sshd" failed');
      });
    } finally {
      old.remove();
    }
  });

  test("an sshd_config that sshd -t refuses fails the sshd-config check with petit server restart", async () => {
    const file = join(relay.home, "server/sshd_config");
    await restoring(file, async () => {
      appendFileSync(file, "NoSuchOption yes\n");
      const result = await doctor(relay.home);
      assert.equal(result.exitCode, 1);
      const row = result.row("server", "sshd-config");
      assert.equal(row.status, "fail");
      assert.match(row.message, /^sshd -t refuses ".*sshd_config": .*Bad configuration option: NoSuchOption/);
      assert.match(row.fix!, /^petit server restart \(it regenerates the file/);
    });
  });

  test("a locked tunnel account fails the tunnel-account check with usermod; a missing one warns that the relay creates it", { skip: process.getuid?.() !== 0 && "needs root (a relay run by root picks a tunnel account)" }, async () => {
    assert.equal((await doctor(relay.home)).row("server", "tunnel-account").status, "ok");
    const locked = `petit-dl-${process.pid}`;
    // useradd leaves the password locked ("!"), which sshd refuses with UsePAM no.
    await execa("useradd", ["--system", "--no-create-home", "--shell", "/bin/sh", locked]);
    try {
      await withConfig(relay.home, (c) => (c.server.tunnel_user = locked), async (args) => {
        const row = (await doctor(relay.home, args)).row("server", "tunnel-account");
        assert.equal(row.status, "fail");
        assert.match(row.message, new RegExp(`"${locked}" is locked`));
        assert.match(row.fix!, new RegExp(`^usermod -p '\\*' ${locked}`));
      });
    } finally {
      await execa("userdel", [locked]);
    }
    await withConfig(relay.home, (c) => (c.server.tunnel_user = locked), async (args) => {
      const row = (await doctor(relay.home, args)).row("server", "tunnel-account");
      assert.equal(row.status, "warn");
      assert.match(row.message, /does not exist/);
    });
  });

  test("a port taken by another program fails that port's check naming the config key and the program", async () => {
    const other = await occupy(0);
    try {
      await withConfig(relay.home, (c) => { c.server.http_port = other.port; }, async (args) => {
        const result = await doctor(relay.home, args);
        assert.equal(result.exitCode, 1);
        const row = result.row("server", "port-http");
        assert.equal(row.status, "fail");
        assert.match(row.message, new RegExp(`^127.0.0.1:${other.port} \\(server.http_port, the HTTP proxy\\) is held by pid ${process.pid} \\(.*\\), not by petit$`));
        assert.match(row.fix!, /^stop that program, or set server.http_port in ".*" to a free port; then petit server restart$/);
        assert.equal(result.row("server", "port-api").status, "ok");
      });
    } finally {
      await other.close();
    }
  });

  test("a secret readable by others fails the files check with chmod 600", async () => {
    const token = join(relay.home, "server/enroll.token");
    chmodSync(token, 0o644);
    try {
      const result = await doctor(relay.home);
      assert.equal(result.exitCode, 1);
      const row = result.row("server", "files");
      assert.equal(row.status, "fail");
      assert.equal(row.message, `"${token}" has mode 0644 (a secret must be readable by its owner only)`);
      assert.equal(row.fix, `chmod 600 "${token}"`);
    } finally {
      chmodSync(token, 0o600);
    }
  });

  test("a world-writable PETIT_HOME fails the trust check with chmod go-w and runs no other check", async () => {
    const homeMode = statSync(relay.home).mode & 0o777;
    chmodSync(relay.home, 0o777);
    try {
      const result = await doctor(relay.home);
      assert.equal(result.exitCode, 1);
      assert.equal(result.rows.length, 1);
      const row = result.row("server", "trust");
      assert.equal(row.status, "fail");
      assert.match(row.message, new RegExp(`^"${relay.home}" is writable by group and others \\(owner root, mode 0777\\)`));
      assert.equal(row.fix, `chmod go-w "${relay.home}"`);
    } finally {
      chmodSync(relay.home, homeMode);
    }
  });

  test("an extra or a missing authorized_keys line fails the registry check with petit server restart", async () => {
    const file = join(relay.home, "server/authorized_keys");
    await restoring(file, async () => {
      appendFileSync(file, `${ed25519Line()} intruder@somewhere\n`);
      const extra = await doctor(relay.home);
      assert.equal(extra.exitCode, 1);
      const row = extra.row("server", "registry");
      assert.equal(row.status, "fail");
      assert.match(row.message, /does not match ".*registry.json": line \d+: a key that is not in the registry \("ssh-ed25519 .*intruder@somewhere"\)$/);
      assert.match(row.fix!, /^petit server restart \(petit-serverd rewrites authorized_keys from registry.json at start/);
      writeFileSync(file, readFileSync(file, "utf8").split("\n").filter((line) => !line.endsWith(` petit-${client.id}`)).join("\n"));
      const missing = (await doctor(relay.home)).row("server", "registry");
      assert.equal(missing.status, "fail");
      assert.match(missing.message, new RegExp(`client ${client.id} \\(port ${client.port}\\) has no line`));
    });
  });

  test("a foreign listener in the tunnel port range warns, and on a client's port fails", async () => {
    const last = relay.rangeFirst + 39;
    const free = await occupy(last);
    try {
      const row = (await doctor(relay.home)).row("server", "port-range");
      assert.equal(row.status, "warn");
      assert.match(row.message, new RegExp(`^port ${last} is held by pid ${process.pid} .*: the relay skips such ports$`));
      assert.match(row.fix!, new RegExp(`kill ${process.pid}\\), or set server.port_range in ".*" to a range nothing else uses`));
    } finally {
      await free.close();
    }
    const offline = await throwawayClient();
    const squatter = await occupy(offline.port);
    try {
      const result = await doctor(relay.home);
      assert.equal(result.exitCode, 1);
      const row = result.row("server", "port-range");
      assert.equal(row.status, "fail");
      assert.match(row.message, new RegExp(`^port ${offline.port} \\(client ${offline.id}'s\\) is held by pid ${process.pid} .*: that client cannot open its tunnel$`));
    } finally {
      await squatter.close();
    }
  });
});

describe("petit doctor on a relay that was never started", () => {
  const home = makeHome("relay-cold");
  let apiPort: number;

  before(async () => {
    const [http, api, control, ssh] = [await freePort(), await freePort(), await freePort(), await freePort()];
    apiPort = api;
    const first = await freeRange(10);
    await petitOk(home.dir, [
      "server", "init", "--domain", "cold.test", "--listen", "127.0.0.1", "--http-port", String(http), "--api-port", String(api),
      "--control-port", String(control), "--ssh-port", String(ssh), "--port-range", `${first}-${first + 9}`,
    ]);
  });

  after(() => home.remove());

  test("a relay that is not running fails the daemon check, warns that sshd_config is not written yet, and names a program holding its API port", async () => {
    const other = await occupy(apiPort);
    try {
      const result = await doctor(home.dir);
      assert.equal(result.exitCode, 1);
      const daemon = result.row("server", "daemon");
      assert.equal(daemon.status, "fail");
      assert.match(daemon.message, /^petit-serverd does not answer on 127.0.0.1:\d+ \(server.control_port\): the relay is not running$/);
      assert.equal(daemon.fix, "petit server up");
      const sshdConfig = result.row("server", "sshd-config");
      assert.equal(sshdConfig.status, "warn");
      assert.match(sshdConfig.message, /sshd_config" does not exist yet$/);
      const api = result.row("server", "port-api");
      assert.equal(api.status, "fail");
      assert.match(api.message, new RegExp(`^127.0.0.1:${apiPort} \\(server.api_port, the registration API\\) is held by pid ${process.pid} `));
      assert.match(api.fix!, /set server.api_port in ".*" to a free port; then petit server up$/);
      for (const check of ["port-http", "port-control", "port-ssh", "port-range", "files", "registry"]) {
        assert.equal(result.row("server", check).status, "ok", check);
      }
    } finally {
      await other.close();
    }
  });
});
