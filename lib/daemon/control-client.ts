/**
 * Calls a daemon's local control API (loopback, secret in a header).
 * @module
 */
import { request } from "undici";
import { CONTROL_SECRET_HEADER } from "../constants.ts";

/** Where a daemon's control API listens and the secret it wants. */
export interface ControlTarget {
  port: number;
  secret: string;
}

/**
 * Returns the JSON answer of `path` on 127.0.0.1:`target.port`, or undefined
 * when nothing answers. Throws the daemon's error message (with `status`)
 * when it answers with an error.
 */
export async function callControl<T>(
  target: ControlTarget, path: string,
  { method = "GET", body, timeout = 10_000 }: { method?: "GET" | "POST"; body?: unknown; timeout?: number } = {},
): Promise<T | undefined> {
  const { port, secret } = target;
  let res;
  try {
    res = await request(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { [CONTROL_SECRET_HEADER]: secret, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    // Refused: nothing listens, so the daemon is not running. A timeout is not that: the daemon is there but slow.
    if (code === "ECONNREFUSED" || code === "ECONNRESET") return undefined;
    if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
      throw new Error(`The daemon on 127.0.0.1:${port} did not answer within ${timeout / 1000} s (busy or stuck; see its log)`, { cause: error });
    }
    throw error;
  }
  const text = await res.body.text();
  if (res.statusCode !== 200) {
    let message = text.trim();
    try {
      message = (JSON.parse(text) as { error: string }).error ?? message;
    } catch {
      // not JSON: keep the text
    }
    throw Object.assign(new Error(message), { status: res.statusCode });
  }
  return JSON.parse(text) as T;
}
