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
  { method = "GET", body, timeout = 2_000 }: { method?: "GET" | "POST"; body?: unknown; timeout?: number } = {},
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
    if (code === "ECONNREFUSED" || code === "UND_ERR_HEADERS_TIMEOUT" || code === "ECONNRESET") return undefined;
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
