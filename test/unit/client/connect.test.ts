/**
 * openConnect() and createConnectServer() against a fake relay on loopback
 * that answers CONNECT exactly as each test needs.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect, createServer, type Server, type Socket } from "node:net";
import { createConnectServer, openConnect } from "../../../lib/client/connect.ts";
import { RawConnection } from "../../helpers/raw-http.ts";

/** What the fake relay does with a CONNECT, by the tunnel host's first label. */
const answers: Record<string, (socket: Socket) => void> = {
  // A service that speaks first (SSH, SMTP, databases): its greeting arrives in the same packet as the 200.
  greeting: (socket) => { socket.write("HTTP/1.1 200 Connection Established\r\n\r\nHELLO\n"); socket.pipe(socket); },
  split: (socket) => {
    socket.write("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 24\r\nConnection: close\r\n\r\n");
    setTimeout(() => socket.end("petit: the whole reason\n"), 50);
  },
  slow: (socket) => { setTimeout(() => socket.end("HTTP/1.1 403 Refused\r\nContent-Length: 12\r\n\r\npetit: late\n"), 300); },
  silent: (socket) => socket.end(),
};

describe("petit connect's CONNECT client", () => {
  let relay: Server;
  let relayUrl: URL;
  const servers: Server[] = [];
  const sockets = new Set<Socket>();

  before(async () => {
    relay = createServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => socket.destroy());
      socket.once("data", (head: Buffer) => answers[/^CONNECT ([a-z]+)\./.exec(head.toString())![1]](socket));
    });
    await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
    relayUrl = new URL(`http://127.0.0.1:${(relay.address() as { port: number }).port}`);
  });

  after(async () => {
    for (const server of servers) server.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => relay.close(resolve));
  });

  /** Starts a connect server for `label` and returns its port. */
  async function localPort(label: string, log: (line: string) => void = () => {}): Promise<number> {
    const server = createConnectServer({ relay: relayUrl, tunnelHost: `${label}.petit.test`, log });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return (server.address() as { port: number }).port;
  }

  test("createConnectServer() passes on bytes the service sent together with the relay's 200", async () => {
    const conn = await RawConnection.open(await localPort("greeting"));
    try {
      assert.equal((await conn.readBytes(6)).toString(), "HELLO\n");
      conn.write("echo\n");
      assert.equal((await conn.readBytes(5)).toString(), "echo\n");
    } finally {
      conn.close();
    }
  });

  test("openConnect() waits for the whole refusal reason when it comes after the head", async () => {
    await assert.rejects(openConnect({ relay: relayUrl, tunnelHost: "split.petit.test", log: () => {} }),
      { message: "the relay refused CONNECT to split.petit.test (407): petit: the whole reason" });
  });

  test("openConnect() says so when the relay closes without answering", async () => {
    await assert.rejects(openConnect({ relay: relayUrl, tunnelHost: "silent.petit.test", log: () => {} }),
      { message: "the relay closed the connection before answering CONNECT to silent.petit.test" });
  });

  test("createConnectServer() survives a visitor that resets before the relay answers", async () => {
    const lines: string[] = [];
    const port = await localPort("slow", (line) => lines.push(line));
    const visitor = connect({ host: "127.0.0.1", port });
    visitor.on("error", () => {});
    await new Promise((resolve) => visitor.once("connect", resolve));
    visitor.resetAndDestroy();
    // An unhandled 'error' on the accepted socket would end this process; the refusal is still logged.
    const start = Date.now();
    while (lines.length === 0 && Date.now() - start < 5_000) await new Promise((r) => setTimeout(r, 25));
    assert.deepEqual(lines, ["the relay refused CONNECT to slow.petit.test (403): petit: late"]);
  });
});
