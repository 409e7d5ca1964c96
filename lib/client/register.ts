/**
 * The client's side of registration: send the public key with a proof of
 * the enrollment token, get ID, port and the relay's SSH details.
 * @module
 */
import { request } from "undici";
import { PROOF_HEADER, SIGNATURE_HEADER } from "../constants.ts";
import { makeProof } from "../proof.ts";
import type { RegistrationAnswer } from "../protocol/registration.ts";
import { signWithKey } from "../ssh/signature.ts";

/**
 * Returns the headers of a registration with `body`: the proof of the
 * enrollment token, and a signature with the private key at `keyFile` over
 * that proof and the body (so neither can be replayed with another).
 */
export async function registrationHeaders(token: string, body: string, keyFile: string): Promise<Record<string, string>> {
  const proof = makeProof(token, body);
  return {
    "content-type": "application/json", [PROOF_HEADER]: proof,
    [SIGNATURE_HEADER]: await signWithKey(keyFile, "register@petit", `${proof}\n${body}`),
  };
}

/** Registers the key at `keyFile` (public half `publicKey`) at the relay API `url`; throws a message naming the relay on any failure. */
export async function registerAtRelay(
  url: string, token: string, request_: { publicKey: string; keyFile: string; name?: string; tunnels?: string[] },
): Promise<RegistrationAnswer> {
  const body = JSON.stringify({
    public_key: request_.publicKey,
    ...(request_.name ? { name: request_.name } : {}),
    ...(request_.tunnels?.length ? { tunnels: request_.tunnels } : {}),
  });
  const endpoint = new URL("/v1/register", url).toString();
  const headers = await registrationHeaders(token, body, request_.keyFile);
  let res;
  try {
    res = await request(endpoint, {
      method: "POST",
      headers,
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
