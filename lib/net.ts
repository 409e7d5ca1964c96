/**
 * TCP reachability checks.
 * @module
 */
import { connect } from "node:net";

/** Tells whether a TCP connection to host:port opens within `timeout` ms. */
export function canConnect(host: string, port: number, timeout = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => done(true));
    socket.once("timeout", () => done(false));
    socket.once("error", () => done(false));
  });
}
