/**
 * What a registered client's key may do on the relay: its own reverse
 * forward on 127.0.0.1 and nothing else. Drives the system ssh with the
 * client's real key against the relay's real sshd.
 */
import { spawn } from "node:child_process";
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { READY_MARKER } from "../../lib/constants.ts";
import { registerClient, startRelay, waitFor, type Client, type Relay } from "../helpers/fixture.ts";
import type { Account } from "../helpers/petit.ts";
import { freePort } from "../helpers/ports.ts";
import { killAllSshSessions, sshAsClient, type SshSession } from "../helpers/ssh-as-client.ts";
import { ensureTestUser } from "../helpers/test-user.ts";

const READY = new RegExp(READY_MARKER);
const HELLO = "target-hello\n";

// Under a non-root relay, tunnels log in as the very account that owns the
// relay's files: confinement matters even more there, so both are proven.
const ROOT = process.getuid?.() === 0;
const relays: [string, () => Promise<Account | undefined>][] = ROOT
  ? [["a root relay", async () => undefined], ["a relay run by an unprivileged user", ensureTestUser]]
  : [["a relay run by its own user", async () => undefined]];

for (const [which, account] of relays) {
  describe(`a client key is confined to its own reverse forward, under ${which}`, () => {
    let relay: Relay;
    let client: Client;
    let other: Client;
    let target: Awaited<ReturnType<typeof startTarget>>;

    before(async () => {
      target = await startTarget();
      relay = await startRelay({ as: await account() });
      client = await registerClient(relay, { name: "mine", target: `127.0.0.1:${target.port}` });
      other = await registerClient(relay, { name: "theirs", target: `127.0.0.1:${target.port}` });
    });

    after(async () => {
      await killAllSshSessions();
      await other?.stop();
      await client?.stop();
      await relay?.stop();
      await target?.close();
    });

    beforeEach(() => { if (target) target.connections = 0; });

    /** Runs ssh with `args`, writes `stdin` then EOF (which ends the forced command), and waits for ssh to exit. */
    async function runToExit(args: string[], command: string[] = [], stdin = ""): Promise<{ code: number | null; stdout: string; stderr: string }> {
      const ssh = sshAsClient(client.home, args, { command });
      try {
        ssh.child.stdin!.end(stdin);
        const code = await ssh.exited;
        return { code, stdout: ssh.stdout(), stderr: ssh.stderr() };
      } finally {
        await ssh.kill();
      }
    }

    async function assertListenRefused(spec: string, port: string): Promise<void> {
      const { code, stdout, stderr } = await runToExit(["-R", `${spec}:127.0.0.1:${target.port}`]);
      assert.equal(code, 255, `ssh -R ${spec} should exit 255; stderr: ${stderr}`);
      assert.ok(stderr.includes(`remote port forwarding failed for listen ${port.startsWith("/") ? "path" : "port"} ${port}`), stderr);
      assert.doesNotMatch(stdout, READY);
    }

    test("a client key can listen on its own port on 127.0.0.1 (the control case)", async () => {
      const ssh = sshAsClient(client.home, ["-R", `127.0.0.1:${client.port}:127.0.0.1:${target.port}`]);
      try {
        await ssh.waitForStdout(READY);
        assert.equal((await talk(client.port)).text, HELLO);
        assert.equal(target.connections, 1);
      } finally {
        await ssh.kill();
      }
    });

    test("a client key cannot listen on another client's port", async () => {
      assert.notEqual(other.port, client.port);
      await assertListenRefused(`127.0.0.1:${other.port}`, String(other.port));
    });

    test("a client key cannot listen on an unassigned port in the relay's range", async () => {
      const port = relay.rangeFirst + 20;
      assert.ok(port !== client.port && port !== other.port);
      await assertListenRefused(`127.0.0.1:${port}`, String(port));
    });

    test("a client key cannot listen on its own port on 0.0.0.0", async () => {
      await assertListenRefused(`0.0.0.0:${client.port}`, String(client.port));
    });

    test("a client key cannot listen on its own port without a bind address", async () => {
      await assertListenRefused(String(client.port), String(client.port));
    });

    test("a client key cannot open a remote Unix-socket forward, and no socket file appears", async () => {
      const path = join(tmpdir(), `petit-confine-${process.pid}-${Date.now()}.sock`);
      try {
        await assertListenRefused(path, path);
        assert.equal(existsSync(path), false, `${path} was created on the relay's side`);
      } finally {
        rmSync(path, { force: true });
      }
    });

    test("a client key cannot open a local forward (-L) through the relay", async () => {
      const local = await freePort();
      const ssh = sshAsClient(client.home, ["-L", `127.0.0.1:${local}:127.0.0.1:${target.port}`]);
      try {
        await ssh.waitForStdout(READY);
        const got = await talk(local);
        assert.ok(got.connected, "ssh should listen on the local port");
        assert.equal(got.text, "");
        await ssh.waitForStderr(/open failed: administratively prohibited/);
        assert.equal(target.connections, 0);
      } finally {
        await ssh.kill();
      }
    });

    test("a client key cannot open a dynamic forward (-D): a SOCKS5 connect fails", async () => {
      const local = await freePort();
      const ssh = sshAsClient(client.home, ["-D", `127.0.0.1:${local}`]);
      try {
        await ssh.waitForStdout(READY);
        const got = await socks5Connect(local, target.port);
        assert.deepEqual([...got.subarray(0, 2)], [5, 0], "ssh's SOCKS server should accept the no-auth greeting");
        // After the greeting: either ssh closes the connection or it answers with a non-zero REP.
        assert.ok(got.length === 2 || got[3] !== 0, `SOCKS connect succeeded: ${got.toString("hex")}`);
        assert.ok(!got.includes(HELLO), "data from the target came through");
        await ssh.waitForStderr(/open failed: administratively prohibited/);
        assert.equal(target.connections, 0);
      } finally {
        await ssh.kill();
      }
    });

    test("a client key cannot open a stdio forward (-W)", async () => {
      const { code, stdout, stderr } = await runToExit(["-W", `127.0.0.1:${target.port}`]);
      assert.equal(code, 255, `stderr: ${stderr}`);
      assert.match(stderr, /administratively prohibited|stdio forwarding failed/);
      assert.equal(stdout, "");
      assert.equal(target.connections, 0);
    });

    test("a client key gets no TTY: ssh -tt is refused one and gives up", async () => {
      // With -tt a refused PTY is fatal to ssh itself (exit 255), so this shows the refusal, not the shell.
      const { code, stdout, stderr } = await runToExit(["-tt"], ["id"]);
      assert.equal(code, 255, `stderr: ${stderr}`);
      assert.match(stderr, /PTY allocation request failed on channel 0/);
      assert.match(stdout, new RegExp(`^(${READY_MARKER}\r?\n)?$`));
    });

    test("a client key gets no shell: lines sent on stdin are swallowed, not run", async () => {
      const { code, stdout, stderr } = await runToExit(["-T"], [], "id\necho shell-$((6*7))\nexit 7\n");
      assert.equal(stdout, `${READY_MARKER}\n`, `stderr: ${stderr}`);
      assert.equal(code, 0);
    });

    test("a client key cannot run a command: the forced command runs instead", async () => {
      const { code, stdout, stderr } = await runToExit([], ["id; echo shell-$((6*7)); exit 7"]);
      assert.equal(stdout, `${READY_MARKER}\n`, `stderr: ${stderr}`);
      assert.equal(code, 0);
    });

    test("a client key cannot start a subsystem such as sftp", async () => {
      const { code, stdout, stderr } = await runToExit(["-s"], ["sftp"]);
      assert.notEqual(code, 0);
      assert.match(stderr, /subsystem request failed/);
      assert.equal(stdout, "");
    });

    test("a client key is not granted agent forwarding", async () => {
      // ssh only asks to forward an agent that answers, so run a real, empty one.
      const socket = join(tmpdir(), `petit-agent-${process.pid}-${Date.now()}.sock`);
      const agent = spawn("ssh-agent", ["-D", "-a", socket], { stdio: "ignore" }).on("error", () => {}); // then waitFor fails
      // sshd makes /tmp/ssh-XXXXXXXXXX/agent.<pid> when it grants the request, before the forced command runs.
      const agentDirs = () => readdirSync("/tmp").filter((name) => name.startsWith("ssh-"));
      let ssh: SshSession | undefined;
      try {
        await waitFor(() => existsSync(socket), 5_000, "ssh-agent's socket");
        const before = new Set(agentDirs());
        ssh = sshAsClient(client.home, ["-A", "-v"], { env: { SSH_AUTH_SOCK: socket } });
        await ssh.waitForStdout(READY);
        assert.match(ssh.stderr(), /Requesting authentication agent forwarding/, "ssh did not even ask");
        assert.deepEqual(agentDirs().filter((name) => !before.has(name)), [], "sshd created an agent socket directory");
      } finally {
        await ssh?.kill();
        if (agent.pid) process.kill(agent.pid, "SIGKILL");
        rmSync(socket, { force: true });
      }
    });

    test("a client key is not granted X11 forwarding", async () => {
      const ssh = sshAsClient(client.home, ["-Y"], { env: { DISPLAY: "127.0.0.1:99", XAUTHORITY: "/dev/null" } });
      try {
        await ssh.waitForStdout(READY);
        await ssh.waitForStderr(/X11 forwarding request failed/);
      } finally {
        await ssh.kill();
      }
    });
  });
}

/** A TCP server we own: counts connections and greets each with HELLO. */
async function startTarget(): Promise<{ port: number; connections: number; close(): Promise<void> }> {
  const state = { port: 0, connections: 0, close: () => new Promise<void>((r) => server.close(() => r())) };
  const server: Server = createServer((socket) => {
    state.connections++;
    socket.on("error", () => {});
    socket.end(HELLO);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.port = (server.address() as { port: number }).port;
  return state;
}

/** Connects to 127.0.0.1:`port` and reads until the peer closes (or 3 s pass). */
function talk(port: number): Promise<{ connected: boolean; text: string }> {
  return new Promise((resolve) => {
    let connected = false;
    let text = "";
    const socket = connect(port, "127.0.0.1", () => { connected = true; });
    const finish = () => { clearTimeout(timer); socket.destroy(); resolve({ connected, text }); };
    const timer = setTimeout(finish, 3_000);
    socket.on("data", (chunk: Buffer) => { text += chunk.toString(); });
    socket.on("close", finish);
    socket.on("error", finish);
  });
}

/**
 * A SOCKS5 CONNECT to 127.0.0.1:`targetPort` by hand: greeting, then (once
 * answered) the request. Returns every byte the proxy sent (3 s at most).
 */
function socks5Connect(proxyPort: number, targetPort: number): Promise<Buffer> {
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    let requested = false;
    const socket = connect(proxyPort, "127.0.0.1", () => socket.write(Buffer.from([5, 1, 0])));
    const finish = () => { clearTimeout(timer); socket.destroy(); resolve(got); };
    const timer = setTimeout(finish, 3_000);
    socket.on("data", (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (!requested && got.length >= 2) {
        requested = true;
        socket.write(Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, targetPort >> 8, targetPort & 0xff]));
      }
    });
    socket.on("close", finish);
    socket.on("error", finish);
  });
}
