/**
 * The proxy's access log (`server.access_log`): one JSON line per answered
 * request, so an operator can see who called which service, with what
 * result, and how long it took. Off unless configured: at thousands of
 * requests a second it costs CPU and disk.
 * @module
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { isAbsolute, join } from "node:path";
import { knownClientAddress } from "../../http/client-address.ts";
import type { ProxyRequest } from "./types.ts";

/** One request as logged. */
export interface AccessEntry {
  time: string;
  remote: string;
  host: string;
  method: string;
  path: string;
  status: number;
  ms: number;
  user_agent: string;
}

/** Where `server.access_log` points: as given when absolute, else inside the server folder. */
export function accessLogPath(setting: string, serverDir: string): string {
  return isAbsolute(setting) ? setting : join(serverDir, setting);
}

/**
 * Appends entries to `path` (0600). A write that fails (a full disk) is
 * reported once through `log` and the lines are dropped: the proxy never waits
 * on, or dies of, its log.
 */
export class AccessLog {
  #stream: WriteStream;
  #failed = false;

  constructor(readonly path: string, private readonly log: (line: string) => void) {
    this.#stream = createWriteStream(path, { flags: "a", mode: 0o600 });
    this.#stream.on("error", (error) => {
      if (!this.#failed) this.log(`access log: cannot write "${path}": ${error.message}; requests are no longer logged until the next start`);
      this.#failed = true;
    });
  }

  /** Logs `req`, answered with `status` after `ms` milliseconds. */
  write(req: ProxyRequest, status: number, ms: number): void {
    if (this.#failed) return;
    const entry: AccessEntry = {
      time: new Date().toISOString(), remote: knownClientAddress(req), host: req.headers.host ?? "",
      method: req.method, path: req.url, status, ms: Math.round(ms * 10) / 10, user_agent: req.headers["user-agent"] ?? "",
    };
    this.#stream.write(`${JSON.stringify(entry)}\n`);
  }

  /** Flushes and closes the file. */
  close(): Promise<void> {
    return new Promise((resolve) => this.#stream.end(() => resolve()));
  }
}
