/**
 * The registration API's JSON, as the relay sends it and the client reads
 * it: the answer to `POST /v1/register`, and the body of `POST /v1/release`.
 * @module
 */

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
  /** The other relays sharing this one's store: where a client may connect when this relay is gone. */
  relays?: RelayPeer[];
}

/** Another relay's SSH endpoint, as the registration answer lists it. */
export interface RelayPeer {
  name: string;
  host: string;
  port: number;
  host_key: string;
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
