/**
 * The registration API's JSON, as the relay sends it and the client reads
 * it: the answer to `POST /v1/register`, and the body of `POST /v1/release`.
 * @module
 */
import type { SignedRelayList } from "./relay-list.ts";

/** The JSON a successful registration answers with. */
export interface RegistrationAnswer {
  id: number;
  name: string;
  port: number;
  public_host: string;
  public_url: string;
  /** Further services of the client, on the same ssh connection. */
  tunnels: { name: string; port: number; public_host: string; public_url: string }[];
  /** Visitors present it to the proxy (Proxy-Authorization: Bearer …) unless the client is public. */
  access_token: string;
  ssh: { host: string; port: number; user: string; host_key: string };
  /**
   * Every relay sharing this one's store (where a client may connect when this
   * relay is gone), signed with this relay's host key: see relay-list.ts.
   */
  relay_list?: SignedRelayList;
}

/** The body of `POST /v1/relays` (the current relay list), signed (namespace "relays@petit") with the client's key. */
export interface RelayListRequest {
  id: number;
  /** Seconds since the epoch, within PROOF_MAX_SKEW_SECONDS of the relay's clock. */
  t: number;
}

/** The body of `POST /v1/release`, signed (namespace "release-port@petit") with the client's key. */
export interface ReleaseRequest {
  id: number;
  port: number;
  /** Seconds since the epoch, within PROOF_MAX_SKEW_SECONDS of the relay's clock. */
  t: number;
  /** 32 hex digits, accepted once. */
  n: string;
}
