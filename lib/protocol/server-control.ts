/**
 * What petit-serverd's control port answers, as `petit server …`, doctor and
 * the web console read it: status, the clients view and the access view.
 * @module
 */

/** The answer of `GET /v1/status`. */
export interface ServerStatus {
  pid: number;
  /** Absent while the sshd that carries the tunnels is not running. */
  sshd_pid?: number | null;
  clients: number;
  /** False until every part listens. */
  ready: boolean;
  /** The ACME certificates and how each stands; absent without [server.acme]. */
  acme?: AcmeCertificateView[];
}

/** How one ACME certificate stands, for /v1/status (and so petit doctor). */
export interface AcmeCertificateView {
  /** "relay" (the relay's own host name) or "client-<id>". */
  label: string;
  names: string[];
  /** ISO time the served certificate expires; null while there is none. */
  not_after: string | null;
  /** Failed orders in a row since the last success. */
  failures: number;
  last_error: string | null;
  /** ISO time of the next order (renewal or retry). */
  next_attempt: string;
}

/** A client's counters as the control API shows them. */
export interface CountersView {
  requests: number;
  connections_open: number;
  connections_total: number;
  bytes_in: number;
  bytes_out: number;
  requests_per_second: number;
}

/** One client as shown to operators, with the proxy's counters since the relay started (zeros when it is down). */
export interface ClientRow extends CountersView {
  id: number;
  name: string;
  host: string;
  port: number;
  fingerprint: string;
  online: boolean;
  online_since: string | null;
  /** The relay holding the tunnel: this one's name, another's (relays sharing a store), or null when offline or alone. */
  relay: string | null;
  last_seen: string | null;
  created: string;
}

/** A client's visitor access as the control port shows it. */
export interface AccessView {
  id: number;
  name: string;
  token: string;
  public: boolean;
  allow_from: string[];
}

/** The answer of `POST /v1/clients/:label/sign-in-link`: a single-use browser sign-in link. */
export interface SignInLinkView {
  id: number;
  url: string;
  /** When the link stops working (ISO 8601). */
  expires_at: string;
}
