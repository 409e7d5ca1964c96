/**
 * `petit connect`: a local TCP port whose connections are carried to a
 * client's service through the relay's proxy with HTTP CONNECT, for tools
 * that cannot speak CONNECT themselves (SQL clients, RDP, SMB).
 * @module
 */
import { connect as connectTcp, createServer, type Server, type Socket } from "node:net";
import { connect as connectTls } from "node:tls";

/** Where to connect and as whom. */
export interface ConnectOptions {
  /** The relay's proxy, e.g. "http://relay.example.com" or "https://relay.example.com:8443". */
  relay: URL;
  /** Host name of the tunnel, e.g. "1001.relay.example.com". */
  tunnelHost: string;
  /** Access token, unless the client is public. */
  token?: string;
  log: (line: string) => void;
}

/**
 * Opens a CONNECT tunnel through the relay; resolves with the socket once the
 * relay answered 200, rejects with the relay's one-line reason otherwise.
 */
export function openConnect(options: ConnectOptions): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const { relay } = options;
    const https = relay.protocol === "https:";
    const port = Number(relay.port || (https ? 443 : 80));
    const socket: Socket = https
      ? connectTls({ host: relay.hostname, port, servername: relay.hostname })
      : connectTcp({ host: relay.hostname, port });
    socket.setNoDelay(true);
    const auth = options.token ? `Proxy-Authorization: Bearer ${options.token}\r\n` : "";
    socket.once(https ? "secureConnect" : "connect", () => {
      socket.write(`CONNECT ${options.tunnelHost}:1 HTTP/1.1\r\nHost: ${options.tunnelHost}:1\r\n${auth}\r\n`);
    });
    let answer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      answer = Buffer.concat([answer, chunk]);
      const end = answer.indexOf("\r\n\r\n");
      if (end < 0) {
        if (answer.length > 16_384) fail(new Error("the relay's answer to CONNECT is too long"));
        return;
      }
      socket.off("data", onData);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer.toString("latin1"))?.[1]);
      if (status !== 200) {
        const reason = answer.subarray(end + 4).toString("utf8").trim() || `status ${status}`;
        return fail(new Error(`the relay refused CONNECT to ${options.tunnelHost} (${status}): ${reason}`));
      }
      const rest = answer.subarray(end + 4);
      if (rest.length) socket.unshift(rest);
      socket.off("error", fail);
      resolve(socket);
    };
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.on("data", onData);
    socket.once("error", (error) => fail(new Error(`Cannot reach relay "${relay.host}": ${(error as NodeJS.ErrnoException).code ?? error.message}`)));
  });
}

/** Creates (but does not start) a server piping each accepted connection through its own CONNECT tunnel. */
export function createConnectServer(options: ConnectOptions): Server {
  return createServer((local) => {
    local.pause();
    openConnect(options).then((remote) => {
      local.pipe(remote);
      remote.pipe(local);
      local.resume();
      local.on("error", () => remote.destroy());
      remote.on("error", () => local.destroy());
      local.on("close", () => remote.destroy());
      remote.on("close", () => local.destroy());
    }, (error: Error) => {
      options.log(error.message);
      local.destroy();
    });
  });
}
