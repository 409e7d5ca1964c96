/**
 * Asking the relay the tunnel is on for the current relay list, after each
 * connect: a signed `POST /v1/relays` (namespace "relays@petit", the
 * client's key), whose answer is taken only if checkRelayList accepts it.
 * @module
 */
import { request } from "undici";
import { SIGNATURE_HEADER } from "../constants.ts";
import type { RelayListRequest } from "../protocol/registration.ts";
import type { SignedRelayList } from "../protocol/relay-list.ts";
import { signWithKey } from "../ssh/signature.ts";
import { checkRelayList, type RelayListCheck, type RelayListOutcome } from "./relay-list-check.ts";

/**
 * Fetches the list from the relay API `o.api` as client `o.id` and checks it;
 * throws (naming the relay) only when the relay cannot be asked at all.
 */
export async function fetchRelayList(
  o: { api: string; id: number; keyFile: string; check: RelayListCheck },
): Promise<RelayListOutcome & { signed?: SignedRelayList }> {
  const body = JSON.stringify({ id: o.id, t: Math.floor(Date.now() / 1000) } satisfies RelayListRequest);
  const signature = await signWithKey(o.keyFile, "relays@petit", body);
  let status: number;
  let text: string;
  try {
    const res = await request(new URL("/v1/relays", o.api).toString(), {
      method: "POST", headers: { "content-type": "application/json", [SIGNATURE_HEADER]: signature }, body,
      headersTimeout: 10_000, bodyTimeout: 10_000,
    });
    status = res.statusCode;
    text = await res.body.text();
  } catch (error) {
    throw new Error(`Cannot reach relay API "${o.api}": ${(error as { code?: string }).code ?? (error as Error).message}`, { cause: error });
  }
  // The answer is the network's until checkRelayList has verified the signature: nothing of it is logged as petit's own words.
  if (status !== 200) return { refused: `the relay API "${o.api}" answered ${status}` };
  let signed: unknown;
  try {
    signed = (JSON.parse(text) as { relay_list?: unknown }).relay_list;
  } catch {
    return { refused: `the relay API "${o.api}" answered with something that is not JSON` };
  }
  const outcome = await checkRelayList(signed, o.check);
  return outcome.list ? { ...outcome, signed: signed as SignedRelayList } : outcome;
}
