/**
 * A cap on the connections one source address may hold open at once, so one
 * visitor cannot take all of the proxy's sockets.
 * @module
 */
import type { Server } from "node:http";
import type { Socket } from "node:net";

/** Closes new connections from a source that already holds `limit` open ones. */
export function limitConnectionsPerSource(server: Server, limit: number): void {
  const open = new Map<string, number>();
  server.on("connection", (socket: Socket) => {
    const source = socket.remoteAddress ?? "";
    const count = (open.get(source) ?? 0) + 1;
    if (count > limit) return void socket.destroy();
    open.set(source, count);
    socket.once("close", () => {
      const left = (open.get(source) ?? 1) - 1;
      if (left > 0) open.set(source, left);
      else open.delete(source);
    });
  });
}
