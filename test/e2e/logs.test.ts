/**
 * `petit logs` and log rotation end to end: a real relay and client whose
 * daemons rotate their own logs, and sshd.log rotated under a live sshd.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, existsSync, readFileSync, statSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { LOG_MAX_BYTES } from "../../lib/daemon/log-file.ts";
import { isAlive } from "../../lib/proc/process.ts";
import { registerClient, startRelay, waitFor, type Client, type Relay } from "../helpers/fixture.ts";
import { startOrigin } from "../helpers/origin.ts";
import { makeHome, petit, petitCommand, ROOT } from "../helpers/petit.ts";

/** Appends a little more than LOG_MAX_BYTES of filler lines to `path`, as another writer would. */
function growPast(path: string, limit = LOG_MAX_BYTES): void {
  const line = `${"filler ".repeat(15)}\n`;
  appendFileSync(path, line.repeat(Math.ceil(limit / line.length) + 10));
}

/** Waits (the daemons check every 5 s) until `path` was rotated: `path.1` exists and `path` is small again. */
function waitRotated(path: string): Promise<number> {
  return waitFor(() => existsSync(`${path}.1`) && statSync(path).size < LOG_MAX_BYTES, 20_000, `rotation of ${path}`);
}

describe("petit logs and log rotation", () => {
  let relay: Relay;
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let client: Client;
  const followers: ResultPromise[] = [];

  before(async () => {
    origin = await startOrigin("logs-origin");
    relay = await startRelay();
    client = await registerClient(relay, { name: "logs", target: `127.0.0.1:${origin.port}` });
    await client.up();
  });

  after(async () => {
    for (const follower of followers) if (follower.pid && isAlive(follower.pid)) process.kill(follower.pid, "SIGKILL");
    await client?.stop();
    await relay?.stop();
    await origin?.close();
  });

  /** Starts `petit logs -f ...args` and collects what it prints. */
  function follow(home: string, args: string[]): { child: ResultPromise; output: () => string } {
    const [program, prefix] = petitCommand();
    const child = execa(program, [...prefix, "logs", "-f", ...args], {
      cwd: ROOT, env: { PETIT_HOME: home, NO_COLOR: "1" }, reject: false, stdin: "ignore", buffer: false,
    });
    followers.push(child);
    let text = "";
    child.stdout!.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
    return { child, output: () => text };
  }

  test("petit logs prints the last N lines of the client's log", async () => {
    const lines = readFileSync(join(client.home, "client/clientd.log"), "utf8").trimEnd().split("\n");
    const result = await petit(client.home, ["logs", "-n", "2"]);
    assert.equal(result.exitCode, 0, String(result.stderr));
    assert.equal(result.stdout, lines.slice(-2).join("\n"));
    assert.match(String(result.stdout), /^\d{4}-\d\d-\d\dT/);
  });

  test("petit logs --server prints the relay's log", async () => {
    const result = await petit(relay.home, ["logs", "--server"]);
    assert.equal(result.exitCode, 0, String(result.stderr));
    assert.match(String(result.stdout), /petit-serverd \d+: proxy on /);
  });

  test("petit logs says where the log would be when there is none", async () => {
    const home = makeHome("logs-empty");
    try {
      const result = await petit(home.dir, ["logs"]);
      assert.equal(result.exitCode, 1);
      assert.match(String(result.stderr), /No log at ".*client\/clientd\.log": petit-clientd has not run in the background/);
    } finally {
      home.remove();
    }
  });

  test("petit logs -n refuses a value that is not a number of lines", async () => {
    const result = await petit(client.home, ["logs", "-n", "ten"]);
    assert.equal(result.exitCode, 1);
    assert.match(String(result.stderr), /-n must be a number of lines \(0 or more\), got "ten"/);
  });

  test("petit-clientd rotates its own log past 10 MiB, and petit logs -f follows it across the rotation until Ctrl-C", async () => {
    const file = join(client.home, "client/clientd.log");
    const { child, output } = follow(client.home, ["-n", "0"]);
    // Appended the way the daemon writes it (O_APPEND), until the follower shows it: it is following.
    await waitFor(() => (appendFileSync(file, "marker one\n"), output().includes("marker one\n")), 10_000, "the follower to print marker one");
    growPast(file);
    await waitRotated(file);
    // The daemon's own next line lands at the start of the truncated file, and the follower shows it.
    await waitFor(() => output().includes("passed 10 MiB; rotated it to"), 10_000, "the daemon's rotation line");
    const text = readFileSync(file, "utf8");
    assert.match(text, /^\d{4}-\d\d-\d\dT\S+ log: ".*clientd\.log" passed 10 MiB; rotated it to ".*clientd\.log\.1"\n/);
    assert.ok(!text.includes("\0"), "no hole of NUL bytes before the daemon's next line");
    assert.ok(readFileSync(`${file}.1`, "utf8").includes("marker one\n"));
    appendFileSync(file, "marker two\n");
    await waitFor(() => output().includes("marker two\n"), 10_000, "the follower to print marker two");
    process.kill(child.pid!, "SIGINT");
    const result = await child;
    assert.equal(result.exitCode, 0, String(result.stderr));
    // The tunnel is still up: the daemon went on working after rotating.
    assert.equal((await petit(client.home, ["status"])).exitCode, 0);
  });

  test("petit-serverd rotates sshd.log by copy and truncate, and sshd goes on writing at its start", async () => {
    const file = join(relay.home, "server/sshd.log");
    const sshdPid = Number(readFileSync(join(relay.home, "server/sshd.pid"), "utf8").trim());
    // Copy-and-truncate is safe only because sshd's stderr was opened for append: O_APPEND is 02000.
    const flags = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/${sshdPid}/fdinfo/2`, "utf8"))![1];
    assert.ok(Number.parseInt(flags, 8) & 0o2000, `sshd's fd 2 has flags ${flags}, without O_APPEND`);
    growPast(file);
    await waitRotated(file);
    // A connection that closes at once makes sshd log "Connection closed by 127.0.0.1 port N".
    await new Promise<void>((resolve) => {
      const socket = connect(relay.sshPort, "127.0.0.1", () => socket.end());
      socket.resume().on("close", () => resolve()).on("error", () => resolve());
    });
    await waitFor(() => readFileSync(file, "utf8").includes("Connection closed by 127.0.0.1"), 10_000, "sshd's next line");
    const text = readFileSync(file, "utf8");
    assert.ok(!text.includes("\0"), "no hole of NUL bytes before sshd's next line");
    assert.ok(statSync(file).size < 4096);
    assert.match(readFileSync(join(relay.home, "server/serverd.log"), "utf8"), /log: ".*sshd\.log" passed 10 MiB; rotated it to ".*sshd\.log\.1"/);
    assert.equal(isAlive(sshdPid), true);
  });
});
