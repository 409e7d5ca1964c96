/**
 * Visitor connections whose reads land in one buffer the whole proxy shares,
 * instead of a fresh 64 KiB allocation per read. A stream socket allocates
 * for every read; under load that was the proxy's costliest habit after the
 * system calls themselves (malloc, pages the kernel zeroes, major garbage
 * collections: an upload cost petit-serverd twice the CPU of the same code
 * in a small process). Node offers `onread` only to sockets it connects, so
 * an accepted socket's handle is taken over by a socket made with it.
 *
 * The rule that makes one buffer safe for all: a read is handled before the
 * next one happens (one thread), and whatever outlives the handling — a
 * partial head, pipelined bytes, body bytes a write still holds — is copied
 * out first ({@link ownCopy}, {@link BodyCopies}).
 * @module
 */
import { Socket, type Server } from "node:net";

/** The size of the shared read buffer (node's stream reads ask for as much). */
export const READ_BYTES = 64 * 1024;

/** Node's internals used here: an accepted socket's handle, and the server it counts against. */
type Internal = Socket & { _handle: unknown; _server: Server | null; server: Server | null };

/**
 * Returns a socket on `accepted`'s connection that reads into `buffer` and
 * calls `onRead` with each read (a view of `buffer`, valid only during the
 * call). `accepted` must not have started reading (the server's
 * `pauseOnConnect`); it is left without a handle, and the new socket counts
 * against `server`'s connections in its place.
 */
export function takeOverReads(accepted: Socket, server: Server, buffer: Buffer, onRead: (chunk: Buffer) => void): Socket {
  const old = accepted as Internal;
  const handle = old._handle;
  old._handle = null;
  old._server = null;
  const socket = new Socket({
    handle, allowHalfOpen: true, readable: true, writable: true,
    onread: { buffer, callback: (n: number, buf: Uint8Array) => void onRead((buf as Buffer).subarray(0, n)) },
  } as ConstructorParameters<typeof Socket>[0]) as Internal;
  // It closes in the old one's place: server.close() waits for it, as for any connection.
  socket.server = socket._server = server;
  return socket;
}

/** Returns bytes of the shared buffer copied out (a small copy comes from node's slab: no allocation of its own). */
export function ownCopy(view: Buffer): Buffer {
  return Buffer.from(view);
}

/** Buffers for body bytes that wait in a socket's write queue: kept for reuse instead of left to the garbage collector. */
export class BodyCopies {
  readonly #free: Buffer[] = [];

  /** Keeps at most `max` free buffers (`max` × 64 KiB). */
  constructor(private readonly max = 32) {}

  /**
   * Writes `view` (bytes of the shared buffer) to `socket` from a copy that
   * goes back to the free list once written. Returns what `socket.write`
   * returns (false: wait for "drain").
   */
  write(socket: Socket, view: Buffer): boolean {
    if (view.length < 4096 || view.length > READ_BYTES) return socket.write(ownCopy(view));
    const copy = this.#free.pop() ?? Buffer.allocUnsafe(READ_BYTES);
    view.copy(copy);
    return socket.write(copy.subarray(0, view.length), () => {
      if (this.#free.length < this.max) this.#free.push(copy);
    });
  }
}
