/**
 * The client daemon's metrics for /metrics: is the tunnel up, in which
 * state, and why ssh had to reconnect. Bytes and connections are not here:
 * they flow inside ssh, which the daemon does not see (the relay counts them).
 * @module
 */
import { histogramSamples, type Metric, newHistogram, observe, renderPrometheus } from "../http/prometheus.ts";
import type { ExitReason } from "./classify.ts";
import type { TunnelState, TunnelStatus } from "../protocol/client-status.ts";

const STATES: TunnelState[] = ["connecting", "connected", "retrying", "error", "paused", "stopped"];

/** Returns a short, fixed label for why ssh exited, for the reconnects counter. */
export function reasonLabel(reason: ExitReason): string {
  if (!reason.retryable) return /host key/i.test(reason.message) ? "host_key_mismatch" : "key_refused";
  if (reason.forwardRefused) return "forward_refused";
  if (reason.unreachable) return "relay_unreachable";
  if (reason.network) return "network";
  if (/killed by/.test(reason.message)) return "killed";
  return "ssh_exit";
}

/** Counts what the supervisor reports. */
export class ClientMetrics {
  readonly #reconnects = new Map<string, number>();
  /** How long connected sessions lasted, in seconds. */
  readonly #sessions = newHistogram([10, 60, 600, 3600, 6 * 3600, 24 * 3600]);

  /** Records one unplanned ssh exit; `upSeconds` is how long that ssh had been connected (0 if never). */
  exited(reason: ExitReason, upSeconds = 0): void {
    const label = reasonLabel(reason);
    this.#reconnects.set(label, (this.#reconnects.get(label) ?? 0) + 1);
    if (upSeconds > 0) observe(this.#sessions, upSeconds);
  }

  /** Renders the metrics for `status` of client `id`. */
  render(status: TunnelStatus & { uptime_seconds: number | null }, id: number): string {
    const client = { client: id };
    const metrics: Metric[] = [
      { name: "petit_client_tunnel_up", help: "1 while the tunnel to the relay is connected.", type: "gauge", samples: [{ labels: client, value: status.state === "connected" ? 1 : 0 }] },
      {
        name: "petit_client_tunnel_state", help: "The tunnel's state: 1 for the current one.", type: "gauge",
        samples: STATES.map((state) => ({ labels: { ...client, state }, value: status.state === state ? 1 : 0 })),
      },
      { name: "petit_client_uptime_seconds", help: "Seconds the current connection has been up (0 when not connected).", type: "gauge", samples: [{ labels: client, value: status.uptime_seconds ?? 0 }] },
      { name: "petit_client_restarts_total", help: "ssh restarts since the daemon started.", type: "counter", samples: [{ labels: client, value: status.restarts }] },
      {
        name: "petit_client_reconnects_total", help: "Unplanned ssh exits by reason.", type: "counter",
        samples: [...this.#reconnects].map(([reason, value]) => ({ labels: { ...client, reason }, value })),
      },
      { name: "petit_client_session_seconds", help: "How long connected sessions lasted before they ended.", type: "histogram", samples: histogramSamples(this.#sessions, client) },
    ];
    return renderPrometheus(metrics);
  }
}
