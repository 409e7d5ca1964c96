/**
 * What petit-clientd's control port answers at `GET /v1/status`: read by
 * `petit status`, `petit up`, doctor and the web console.
 * @module
 */

/** Where the tunnel is; "paused": ssh stopped on request (petit pause), the daemon waits for resume. */
export type TunnelState = "connecting" | "connected" | "retrying" | "error" | "paused" | "stopped";

/** A snapshot for `petit status`. */
export interface TunnelStatus {
  state: TunnelState;
  connected_since: string | null;
  restarts: number;
  last_error: string | null;
  next_retry_at: string | null;
  ssh_pid: number | null;
}

/** What `petit status` shows. */
export interface ClientStatus extends TunnelStatus {
  id: number;
  name: string;
  port: number;
  public_host: string;
  public_url: string;
  target: string;
  relay: string;
  /** The relay's sshd the tunnel uses now (relays sharing a store: it moves to another when this one is gone). */
  ssh_endpoint?: string;
  pid: number;
  uptime_seconds: number | null;
}
