/**
 * A registered client's signed request for the current relay list
 * (`POST /v1/relays`), made after each connect. It only reads: a replay
 * within the time window gets the replayer the same signed list again, so no
 * nonce is kept; the signature keeps strangers from listing the relays.
 * @module
 */
import { PROOF_MAX_SKEW_SECONDS } from "../../constants.ts";
import { verifyKeySignature } from "../../ssh/signature.ts";
import { parseJsonObject } from "./registration.ts";
import { RegistrationError, type ClientRecord } from "../registry/registry.ts";

/** Checks a relay list request; returns the client that asked, or throws a RegistrationError (400 malformed, 401 not signed). */
export async function checkRelayListRequest(
  body: string, signature: string | undefined, options: { lookup: (id: number) => ClientRecord | undefined; now?: number },
): Promise<ClientRecord> {
  const { id, t, ...rest } = parseJsonObject(body, '{"id": 1001, "t": 1700000000}');
  if (Object.keys(rest).length || !Number.isInteger(id) || !Number.isInteger(t)) {
    throw new RegistrationError('relay list request body must be exactly {"id": <integer>, "t": <seconds>}');
  }
  const skew = Math.abs((options.now ?? Date.now()) / 1000 - (t as number));
  if (skew > PROOF_MAX_SKEW_SECONDS) {
    throw new RegistrationError(`request time is ${Math.round(skew)} s away from the relay's clock (at most ${PROOF_MAX_SKEW_SECONDS} s)`, 401);
  }
  const client = options.lookup(id as number);
  // One answer for "no such client" and "not its signature", as for port releases.
  const refused = new RegistrationError("not signed by the key of a registered client", 401);
  if (!client || !(await verifyKeySignature(client.key, "relays@petit", body, signature))) throw refused;
  return client;
}
