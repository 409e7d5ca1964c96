/**
 * Calls a daemon's local control API (loopback, secret in a header).
 * @module
 */
import { request } from "undici";
import { CONTROL_SECRET_HEADER } from "../constants.ts";

/** Returns the JSON answer of `method path` on 127.0.0.1:`port`, or undefined when nothing answers. */
export async function callControl<T>(
  port: number, secret: string, path: string, method: "GET" | "POST" = "GET", timeout = 2_000,
): Promise<T | undefined> {
  try {
    const res = await request(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { [CONTROL_SECRET_HEADER]: secret },
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`control port ${port} answered ${res.statusCode}: ${text.trim()}`);
    return JSON.parse(text) as T;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ECONNREFUSED" || code === "UND_ERR_HEADERS_TIMEOUT" || code === "ECONNRESET") return undefined;
    throw error;
  }
}
