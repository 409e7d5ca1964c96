/**
 * The client's side of registration: send the public key with a proof of
 * the enrollment token, get ID, port and the relay's SSH details.
 * @module
 */
import { request } from "undici";
import { PROOF_HEADER } from "../constants.ts";
import { makeProof } from "../proof.ts";
import type { RegistrationAnswer } from "../server/api.ts";

/** Registers `publicKey` at the relay API `url`; throws a message naming the relay on any failure. */
export async function registerAtRelay(
  url: string, token: string, request_: { publicKey: string; name?: string; tunnels?: string[] },
): Promise<RegistrationAnswer> {
  const body = JSON.stringify({
    public_key: request_.publicKey,
    ...(request_.name ? { name: request_.name } : {}),
    ...(request_.tunnels?.length ? { tunnels: request_.tunnels } : {}),
  });
  const endpoint = new URL("/v1/register", url).toString();
  let res;
  try {
    res = await request(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", [PROOF_HEADER]: makeProof(token, body) },
      body,
      headersTimeout: 15_000,
      bodyTimeout: 15_000,
    });
  } catch (error) {
    const code = (error as { code?: string }).code ?? (error as Error).message;
    throw new Error(`Cannot reach relay "${url}": ${code} (is "petit server up" running there, and the API port open?)`, { cause: error });
  }
  const text = await res.body.text();
  let data: { error?: string } & Partial<RegistrationAnswer>;
  try {
    data = JSON.parse(text);
  } catch {
    throw new Error(`Relay "${url}" answered ${res.statusCode} with something that is not petit's JSON: ${text.slice(0, 120)}`);
  }
  if (res.statusCode !== 200 && res.statusCode !== 201) {
    throw new Error(`Relay "${url}" refused the registration (${res.statusCode}): ${data.error ?? text.slice(0, 200)}`);
  }
  return data as RegistrationAnswer;
}
