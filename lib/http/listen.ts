/**
 * Promise wrappers for starting and stopping servers.
 * @module
 */
import type { Server } from "node:net";

/** Starts `server` on host:port; rejects with a message naming the address when it cannot. */
export function listen(server: Server, host: string, port: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const hint = error.code === "EADDRINUSE" ? " (another program uses it; pick another port in config.toml)"
        : error.code === "EACCES" ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE)" : "";
      reject(new Error(`Cannot listen for ${what} on ${host}:${port}: ${error.code ?? error.message}${hint}`, { cause: error }));
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

/** Stops `server`, ending idle keep-alive connections. */
export function close(server: Server & { closeAllConnections?: () => void }): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}
