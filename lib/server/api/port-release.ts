/**
 * A client's signed request to free one of its own relay ports, held by an
 * old session of its own that sshd has not noticed is dead yet (ClientAlive
 * takes ~30 s). The client asks after sshd refused its forward; the relay
 * acts only when the request carries a fresh signature by the key on record
 * for the port's owner. Nothing a network peer can write into sshd's log
 * (which quotes what peers send) can end anybody's session.
 * @module
 */
import { PROOF_MAX_SKEW_SECONDS } from "../../constants.ts";
import { NONCE_LIFETIME_MS, type NonceSet } from "../../proof.ts";
import { verifyKeySignature } from "../../ssh/signature.ts";
import { parseJsonObject } from "./registration.ts";
import { portsOf, RegistrationError, type ClientRecord } from "../registry/registry.ts";

/**
 * Checks a release request; returns the client and port it may free, or
 * throws a RegistrationError (400 malformed, 401 not signed by the owner).
 */
export async function checkRelease(
  body: string, signature: string | undefined,
  options: { lookup: (id: number) => ClientRecord | undefined; nonces: NonceSet; now?: number },
): Promise<{ client: ClientRecord; port: number }> {
  const now = options.now ?? Date.now();
  const { id, port, t, n, ...rest } = parseJsonObject(body, '{"id": 1001, "port": 11001, "t": 1700000000, "n": "32 hex digits"}');
  if (Object.keys(rest).length || !Number.isInteger(id) || !Number.isInteger(port) || !Number.isInteger(t) ||
      typeof n !== "string" || !/^[0-9a-f]{32}$/.test(n)) {
    throw new RegistrationError('release body must be exactly {"id": <integer>, "port": <integer>, "t": <seconds>, "n": "<32 hex digits>"}');
  }
  const skew = Math.abs(now / 1000 - (t as number));
  if (skew > PROOF_MAX_SKEW_SECONDS) {
    throw new RegistrationError(`request time is ${Math.round(skew)} s away from the relay's clock (at most ${PROOF_MAX_SKEW_SECONDS} s)`, 401);
  }
  const client = options.lookup(id as number);
  // One answer for "no such client" and "not its signature": a stranger learns nothing about who is registered.
  const refused = new RegistrationError("not signed by the key of a registered client owning that port", 401);
  if (!client || !portsOf(client).includes(port as number)) throw refused;
  if (!(await verifyKeySignature(client.key, "release-port@petit", body, signature))) throw refused;
  if (!options.nonces.use(n as string, now + NONCE_LIFETIME_MS, now)) throw new RegistrationError("this request was already used (replay)", 401);
  return { client, port: port as number };
}
