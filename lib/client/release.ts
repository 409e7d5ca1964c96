/**
 * The client's side of a port release: after the relay refused its forward
 * because an old session of its own still holds the port, the client asks
 * the relay — signed with its key — to end that session.
 * @module
 */
import { randomBytes } from "node:crypto";
import { request } from "undici";
import { SIGNATURE_HEADER } from "../constants.ts";
import type { ReleaseRequest } from "../protocol/registration.ts";
import { signWithKey } from "../ssh/signature.ts";

/** Asks the relay API at `relay` to end the sessions holding client `id`'s `port`; returns how many it ended. */
export async function requestPortRelease(options: { relay: string; id: number; port: number; keyFile: string }): Promise<number> {
  const request_: ReleaseRequest = { id: options.id, port: options.port, t: Math.floor(Date.now() / 1000), n: randomBytes(16).toString("hex") };
  const body = JSON.stringify(request_);
  const signature = await signWithKey(options.keyFile, "release-port@petit", body);
  const res = await request(new URL("/v1/release", options.relay).toString(), {
    method: "POST",
    headers: { "content-type": "application/json", [SIGNATURE_HEADER]: signature },
    body, headersTimeout: 5_000, bodyTimeout: 5_000,
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`the relay refused to free port ${options.port} (${res.statusCode}): ${text.trim().slice(0, 200)}`);
  return (JSON.parse(text) as { sessions_ended: number }).sessions_ended;
}
