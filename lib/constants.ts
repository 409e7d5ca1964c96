/**
 * Values both sides of petit agree on. Change one here and both the relay
 * and the client follow; nothing else in lib/ hard-codes these numbers.
 * @module
 */

/** The first client ID the relay hands out; later clients count up from it. */
export const FIRST_CLIENT_ID = 1001;

/** Default port of the relay's registration ("backchannel") API. */
export const DEFAULT_API_PORT = 3014;

/** Default port of the client daemon's local command API (loopback only). */
export const DEFAULT_CLIENT_CONTROL_PORT = 3015;

/** Default port of the relay daemon's local control API (loopback only). */
export const DEFAULT_SERVER_CONTROL_PORT = 3016;

/** Default port of the relay's Host-header HTTP proxy. */
export const DEFAULT_HTTP_PORT = 80;

/** Port of the HTTPS proxy when [server.acme] is set (`--https-port`); the plain port then redirects to it. */
export const DEFAULT_HTTPS_PORT = 443;

/** Let's Encrypt's production ACME directory: the default of server.acme.directory. */
export const LETS_ENCRYPT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory";

/** Days before expiry that petit renews an ACME certificate (Let's Encrypt's advice for 90-day certificates). */
export const ACME_RENEW_BEFORE_DAYS = 30;

/** Default port of the sshd that petit runs for the relay. */
export const DEFAULT_SSH_PORT = 2222;

/** Default range of relay-side ports handed to clients for their reverse forwards. */
export const DEFAULT_PORT_RANGE = { first: 11000, last: 11999 } as const;

/** Default local service a client exposes. */
export const DEFAULT_TARGET = "127.0.0.1:8080";

/**
 * Client keepalive: ssh sends a probe after this many silent seconds and
 * gives up after SERVER_ALIVE_COUNT_MAX unanswered ones, so a black-holed
 * link is noticed after about 5 × (2 + 1) = 15 s (OPENSSH_NOTES: "Keepalive").
 */
export const SERVER_ALIVE_INTERVAL = 5;
/** See SERVER_ALIVE_INTERVAL. */
export const SERVER_ALIVE_COUNT_MAX = 2;

/**
 * Relay keepalive for sessions: sshd frees a dead session's port after about
 * 2 × I × (C + 1) s on OpenSSH 9.2 (5/2 → ~30 s). The relay also ends a stale
 * holder itself when its owner reconnects, so this is only the last resort.
 */
export const CLIENT_ALIVE_INTERVAL = 5;
/** See CLIENT_ALIVE_INTERVAL. */
export const CLIENT_ALIVE_COUNT_MAX = 2;

/** HostKeyAlias under which a client pins its relay's host key. */
export const RELAY_HOST_KEY_ALIAS = "petit-relay";

/**
 * Line the relay's forced command prints once the session runs. sshd answers
 * the `tcpip-forward` request before the session channel opens, and with
 * ExitOnForwardFailure ssh exits on a refusal, so seeing this line on ssh's
 * stdout means the reverse forward is in place.
 */
export const READY_MARKER = "petit-tunnel-ready";

/**
 * The forced command of every tunnel session: announce readiness, then wait
 * for end of input. The client daemon holds ssh's stdin open for as long as it
 * lives, so the session ends with the daemon — never a bare `ssh -N`, which
 * costs ~40 ms of p99 latency (sshd leaves Nagle on for sessions without one).
 */
export const FORCED_COMMAND = `echo ${READY_MARKER}; exec cat >/dev/null`;

/** Header carrying the HMAC proof of the enrollment token on the registration API. */
export const PROOF_HEADER = "x-petit-proof";

/**
 * Header carrying the client's SSH signature (SSHSIG, base64) over a
 * registration (its proof header, a newline, its body) or a port release
 * (its body): proof that the sender holds the private key, not just the
 * public one.
 */
export const SIGNATURE_HEADER = "x-petit-signature";

/**
 * The most extra tunnels (named services besides the main one) one client
 * may hold: each is a relay port taken from the shared range.
 */
export const MAX_TUNNELS_PER_CLIENT = 4;

/** How far a registration request's timestamp may drift from the relay's clock. */
export const PROOF_MAX_SKEW_SECONDS = 300;

/** Header carrying the control-port secret on both daemons' local APIs. */
export const CONTROL_SECRET_HEADER = "x-petit-secret";

/**
 * How long a signed relay list (see protocol/relay-list.ts) stays valid
 * after the relay signed it: a list recorded by someone on the path can be
 * replayed for at most this long. Relays re-sign well before it runs out.
 */
export const RELAY_LIST_LIFETIME_SECONDS = 600;

/** The SSHSIG namespace (`ssh-keygen -Y sign -n`) of a relay list: a relay's host key signs nothing else with it. */
export const RELAY_LIST_NAMESPACE = "petit-relays";
