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
 * The socket comes back paused, holding any bytes the service sent with the
 * answer: pipe it (or resume it) to read them.
 */
export function openConnect(options: ConnectOptions): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const { relay, tunnelHost } = options;
    const https = relay.protocol === "https:";
    const port = Number(relay.port || (https ? 443 : 80));
    const socket: Socket = https
      ? connectTls({ host: relay.hostname, port, servername: relay.hostname })
      : connectTcp({ host: relay.hostname, port });
    socket.setNoDelay(true);
    const auth = options.token ? `Proxy-Authorization: Bearer ${options.token}\r\n` : "";
    socket.once(https ? "secureConnect" : "connect", () => {
      socket.write(`CONNECT ${tunnelHost}:1 HTTP/1.1\r\nHost: ${tunnelHost}:1\r\n${auth}\r\n`);
    });
    let answer = Buffer.alloc(0);
    let bodyAt = -1;
    let status = 0;
    let bodyLength = Infinity;
    const refusal = () => {
      const reason = answer.subarray(bodyAt).toString("utf8").trim() || `status ${status}`;
      return new Error(`the relay refused CONNECT to ${tunnelHost} (${status}): ${reason}`);
    };
    const onData = (chunk: Buffer) => {
      answer = Buffer.concat([answer, chunk]);
      if (bodyAt < 0) {
        const end = answer.indexOf("\r\n\r\n");
        if (end < 0) {
          if (answer.length > 16_384) fail(new Error("the relay's answer to CONNECT is too long"));
          return;
        }
        bodyAt = end + 4;
        const head = answer.subarray(0, end).toString("latin1");
        status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]);
        if (status === 200) return succeed();
        bodyLength = Number(/\r\ncontent-length:[ \t]*(\d+)/i.exec(head)?.[1] ?? Infinity);
      }
      // A refusal: its one-line reason is the body, which may come in a later packet than the head.
      if (answer.length - bodyAt >= Math.min(bodyLength, 16_384)) fail(refusal());
    };
    const succeed = () => {
      socket.off("data", onData);
      socket.off("error", onError);
      socket.off("close", onClose);
      // Paused first: a service that speaks first (SSH, SMTP, databases) may have sent bytes with
      // the answer, and a flowing socket would emit them before the caller has a listener.
      socket.pause();
      const rest = answer.subarray(bodyAt);
      if (rest.length) socket.unshift(rest);
      resolve(socket);
    };
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    const onError = (error: NodeJS.ErrnoException) => fail(new Error(`Cannot reach relay "${relay.host}": ${error.code ?? error.message}`));
    const onClose = () => fail(bodyAt < 0 ? new Error(`the relay closed the connection before answering CONNECT to ${tunnelHost}`) : refusal());
    socket.on("data", onData);
    socket.once("error", onError);
    socket.once("close", onClose);
  });
}

/** Creates (but does not start) a server piping each accepted connection through its own CONNECT tunnel. */
export function createConnectServer(options: ConnectOptions): Server {
  return createServer((local) => {
    local.pause();
    // The visitor may hang up or reset before the relay answers: an 'error' event without a listener would end the process.
    local.on("error", () => local.destroy());
    openConnect(options).then((remote) => {
      if (local.destroyed) return void remote.destroy();
      local.pipe(remote);
      remote.pipe(local);
      local.resume();
      remote.on("error", () => local.destroy());
      local.on("close", () => remote.destroy());
      remote.on("close", () => local.destroy());
    }, (error: Error) => {
      options.log(error.message);
      local.destroy();
    });
  });
}
