/**
 * Calls a daemon's local control API (loopback, secret in a header).
 *
 * With node:http rather than undici: undici compiles its WebAssembly HTTP
 * parser on its first request, which was most of the time `petit status`
 * took. These are single calls on loopback; undici stays where requests flow
 * (the proxy, registration, doctor's probes).
 * @module
 */
import { request } from "node:http";
import { CONTROL_SECRET_HEADER } from "../constants.ts";
import { readSecret } from "../secrets.ts";

/**
 * A daemon's control call that did not work out: the daemon's own refusal
 * (with its HTTP `status`), or no answer in time. Operational, not a bug: the
 * CLI prints its message without a stack.
 */
export class ControlError extends Error {
  override name = "ControlError";
  constructor(message: string, readonly status?: number, options?: ErrorOptions) {
    super(message, options);
  }
}

/** Where a daemon's control API listens and the secret it wants. */
export interface ControlTarget {
  port: number;
  secret: string;
}

/** A daemon's control API as the CLI finds it: the file holding its secret, and its port. */
export interface DaemonTarget {
  secretFile: string;
  /** Read only once a secret is found, so a daemon that never ran needs no config for its port. */
  port: () => number;
}

/** Options of one control call. */
export interface CallOptions {
  method?: "GET" | "POST";
  body?: unknown;
  timeout?: number;
}

/**
 * Reads the daemon's control secret and calls `path` with it; undefined when
 * there is no secret (the daemon never ran) or nothing answers. Throws when
 * the secret file is unsafe, and as {@link callControl} does.
 */
export async function callDaemon<T>(target: DaemonTarget, path: string, options?: CallOptions): Promise<T | undefined> {
  const secret = readSecret(target.secretFile);
  return secret ? callControl<T>({ port: target.port(), secret }, path, options) : undefined;
}

/**
 * Returns the JSON answer of `path` on 127.0.0.1:`target.port`, or undefined
 * when nothing answers. Throws the daemon's error message (with `status`)
 * when it answers with an error.
 */
export async function callControl<T>(
  target: ControlTarget, path: string,
  { method = "GET", body, timeout = 10_000 }: CallOptions = {},
): Promise<T | undefined> {
  const { port, secret } = target;
  let answer: { status: number; text: string };
  try {
    answer = await send(port, path, method, { [CONTROL_SECRET_HEADER]: secret, "content-type": "application/json" },
      body === undefined ? undefined : JSON.stringify(body), timeout);
  } catch (error) {
    const code = (error as { code?: string }).code;
    // Refused: nothing listens, so the daemon is not running. A timeout is not that: the daemon is there but slow.
    if (code === "ECONNREFUSED" || code === "ECONNRESET") return undefined;
    if (code === "ETIMEDOUT") {
      throw new ControlError(
        `Nothing answered on 127.0.0.1:${port} within ${timeout / 1000} s: the daemon is stuck (see its log), ` +
        `or another program holds that port (find it with: ss -tlnp 'sport = :${port}')`, undefined, { cause: error });
    }
    throw error;
  }
  const { status, text } = answer;
  if (status !== 200) {
    let message = text.trim();
    try {
      message = (JSON.parse(text) as { error: string }).error ?? message;
    } catch {
      // not JSON: keep the text
    }
    throw new ControlError(message, status);
  }
  return JSON.parse(text) as T;
}

/** One request on its own connection (closed after: nothing idle holds the CLI's exit back); the whole answer within `timeout` ms. */
function send(
  port: number, path: string, method: string, headers: Record<string, string>, body: string | undefined, timeout: number,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") });
      });
      res.on("error", fail);
    });
    const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer within ${timeout} ms`), { code: "ETIMEDOUT" })), timeout);
    function fail(error: Error): void {
      clearTimeout(timer);
      reject(error);
    }
    req.on("error", fail);
    req.end(body);
  });
}
