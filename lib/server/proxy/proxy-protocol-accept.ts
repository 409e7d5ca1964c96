/**
 * `server.proxy_protocol`: connections from trusted load balancers begin
 * with a PROXY protocol header naming the visitor, read here before the
 * HTTP (or TLS) server sees a byte. Others' connections are plain HTTP: a
 * header from them is not believed, and fails as a malformed request.
 * @module
 */
import type { BlockList, Server, Socket } from "node:net";
import { inList, plainAddress, setProxiedSource } from "../../http/client-address.ts";
import { parseProxyHeader } from "./proxy-protocol.ts";
import { takeConnectionListeners } from "./hand-on.ts";

/** How long a trusted balancer has to send the whole header (spec §2: it comes in the first segment). */
export const PROXY_HEADER_TIMEOUT_MS = 5_000;

/**
 * Makes `server` read a PROXY header (v1 or v2) on every connection from a
 * peer in `trusted` before its own "connection" listeners run; a connection
 * whose header is missing, malformed or late is closed and reported through
 * `log`. Call it after every other "connection" listener is added: those
 * then see the visitor's address (client-address.ts).
 */
export function acceptProxyProtocol(server: Server, trusted: BlockList | undefined, log: (line: string) => void): void {
  const tls = "setSecureContext" in server;
  const handOn = takeConnectionListeners(server);
  server.on("connection", (socket: Socket) => {
    const peer = plainAddress(socket.remoteAddress ?? "");
    if (!inList(trusted, peer)) return handOn(socket);
    readHeader(socket, peer, tls, log, handOn);
  });
}

function noop(): void {}

/** Reads the header off `socket`, puts back what follows it, and calls `done`; closes the socket on a bad header. */
function readHeader(socket: Socket, peer: string, tls: boolean, log: (line: string) => void, done: (socket: Socket) => void): void {
  let received: Buffer = Buffer.alloc(0);
  const fail = (reason: string) => {
    cleanup();
    log(`proxy: closed a connection from trusted proxy ${peer}: ${reason} (server.proxy_protocol is on: it must send a PROXY protocol header)`);
    socket.destroy();
  };
  const timer = setTimeout(() => fail(`no whole PROXY header within ${PROXY_HEADER_TIMEOUT_MS / 1000} s`), PROXY_HEADER_TIMEOUT_MS);
  const onData = (chunk: Buffer) => {
    received = received.length ? Buffer.concat([received, chunk]) : chunk;
    const header = parseProxyHeader(received);
    if (header === "more") return;
    if (typeof header === "string") return fail(header);
    cleanup();
    socket.pause();
    if (header.source !== undefined) setProxiedSource(socket, plainAddress(header.source));
    if (received.length > header.length) socket.unshift(received.subarray(header.length));
    done(socket);
    // TLS takes what was put back by itself (and must start reading itself). Node's HTTP server reads straight from
    // the socket's handle, past what was put back: a "data" listener makes it read through the stream instead.
    if (socket.destroyed || tls) return;
    socket.on("data", noop);
    socket.off("data", noop);
    socket.resume();
  };
  const onEnd = () => fail("it closed before the header was whole");
  const cleanup = () => {
    clearTimeout(timer);
    socket.off("data", onData);
    socket.off("end", onEnd);
    socket.off("error", onError);
  };
  const onError = () => {
    cleanup();
    socket.destroy();
  };
  socket.on("data", onData);
  socket.on("end", onEnd);
  socket.on("error", onError);
}
