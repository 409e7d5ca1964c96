/**
 * TLS-ALPN-01 (RFC 8737) on the proxy's HTTPS port. Node picks a
 * connection's certificate by SNI before it knows the ALPN protocols
 * offered, so while a challenge is pending the ClientHello is read off the
 * TCP connection first: one offering only `acme-tls/1` for a name with a
 * pending challenge (the CA's) is answered here with the challenge
 * certificate and closed; every other connection gets its bytes back and
 * goes to node's TLS as if nothing had looked. While no challenge is
 * pending (all but seconds of a relay's life), nothing looks at all.
 * @module
 */
import type { Server, Socket } from "node:net";
import { TLSSocket, type SecureContext } from "node:tls";
import { MAX_CLIENT_HELLO_BYTES, parseClientHello, type ClientHello } from "./client-hello.ts";
import { takeConnectionListeners } from "./hand-on.ts";

/** The ALPN protocol of TLS-ALPN-01 (RFC 8737 §6.2). */
const ACME_TLS_ALPN = "acme-tls/1";
/** How long a connection made while a challenge is pending may take to send its whole ClientHello before TLS gets it as it is. */
export const CLIENT_HELLO_TIMEOUT_MS = 10_000;
/** How long the CA's validation handshake may take (it closes right after, RFC 8737 §3). */
const CHALLENGE_TIMEOUT_MS = 10_000;

/** The pending TLS-ALPN-01 challenges, as the proxy sees them (lib/server/acme/tls-alpn-challenges.ts). */
export interface TlsAlpnChallengeSource {
  /** How many are pending. */
  readonly size: number;
  /** The challenge certificate's context for a (lower-case) name. */
  context(name: string): SecureContext | undefined;
}

/**
 * Makes the TLS `server` answer TLS-ALPN-01 validations from `challenges`
 * before its TLS starts. Call it right after creating the server, before
 * any "connection" listener of one's own: it hands connections on to the
 * listeners present now (TLS's own), after those added later have run.
 */
export function answerTlsAlpnChallenges(server: Server, challenges: TlsAlpnChallengeSource, log: (line: string) => void): void {
  const handOn = takeConnectionListeners(server);
  server.on("connection", (socket: Socket) => {
    if (challenges.size === 0) return handOn(socket);
    readClientHello(socket, (bytes, hello) => {
      const context = hello && isValidation(hello) ? challenges.context(hello.serverName!) : undefined;
      if (bytes.length) socket.unshift(bytes);
      if (!context) return handOn(socket);
      answer(socket, context, hello!.serverName!, log);
    });
  });
}

/** RFC 8737 §3: the CA offers `acme-tls/1` alone, for the name it validates. */
function isValidation(hello: ClientHello): boolean {
  return hello.serverName !== undefined && hello.alpn?.length === 1 && hello.alpn[0] === ACME_TLS_ALPN;
}

/**
 * Reads until the ClientHello is whole, refused, or late (then `hello` is
 * undefined), pauses `socket` and calls `done` with every byte read. A
 * connection closed before that is destroyed here.
 */
function readClientHello(socket: Socket, done: (bytes: Buffer, hello: ClientHello | undefined) => void): void {
  let bytes: Buffer = Buffer.alloc(0);
  let room: Buffer | undefined;
  const finish = (hello: ClientHello | undefined) => {
    cleanup();
    socket.pause();
    done(bytes, hello);
  };
  const timer = setTimeout(() => finish(undefined), CLIENT_HELLO_TIMEOUT_MS);
  const onData = (chunk: Buffer) => {
    if (!bytes.length) bytes = chunk;
    else if (bytes.length + chunk.length > MAX_CLIENT_HELLO_BYTES) {
      bytes = Buffer.concat([bytes, chunk]);
      return finish(undefined);
    } else {
      // Copied once into room for the longest hello, not again at every chunk of a slow sender.
      if (!room) {
        room = Buffer.allocUnsafe(MAX_CLIENT_HELLO_BYTES);
        bytes.copy(room);
      }
      chunk.copy(room, bytes.length);
      bytes = room.subarray(0, bytes.length + chunk.length);
    }
    const hello = parseClientHello(bytes);
    if (hello === "more") return;
    finish(typeof hello === "string" ? undefined : hello);
  };
  const onGone = () => {
    cleanup();
    socket.destroy();
  };
  const cleanup = () => {
    clearTimeout(timer);
    socket.off("data", onData);
    socket.off("end", onGone);
    socket.off("error", onGone);
    socket.off("close", onGone);
  };
  socket.on("data", onData);
  socket.on("end", onGone);
  socket.on("error", onGone);
  socket.on("close", onGone);
  // A socket the PROXY header's reader paused (proxy-protocol-accept.ts) stays paused when a "data" listener is added.
  socket.resume();
}

/** Completes the CA's handshake with the challenge certificate and ALPN `acme-tls/1`, then closes. */
function answer(socket: Socket, context: SecureContext, name: string, log: (line: string) => void): void {
  const tls = new TLSSocket(socket, { isServer: true, secureContext: context, ALPNProtocols: [ACME_TLS_ALPN] });
  tls.setTimeout(CHALLENGE_TIMEOUT_MS, () => tls.destroy());
  // A failed handshake is the CA's to report (in the order's error); here it only ends the connection.
  tls.on("error", () => tls.destroy());
  tls.once("secure", () => {
    log(`acme: answered the TLS-ALPN-01 challenge for "${name}" to ${socket.remoteAddress}`);
    tls.end();
  });
  tls.resume();
}
