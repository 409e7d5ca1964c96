import { test } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { ClientMetrics, reasonLabel } from "../../../../lib/client/metrics.ts";
import { classifyExit } from "../../../../lib/client/classify.ts";
import { countedBody, ServerMetrics } from "../../../../lib/server/metrics/metrics.ts";

test("ServerMetrics counts requests by status class, latency and per-client bytes", () => {
  const metrics = new ServerMetrics();
  const c = metrics.client(1001);
  c.requests += 3;
  c.bytesIn += 10;
  c.bytesOut += 2048;
  metrics.answered(200, 4);
  metrics.answered(204, 40);
  metrics.answered(502, 2);
  metrics.answered(999, 1);
  metrics.refused(407);
  metrics.refused(407);
  metrics.refused(429);
  metrics.registered();
  const text = metrics.render([{ id: 1001, name: "shop", online: true }, { id: 1002, name: "", online: false }]);
  assert.match(text, /^petit_proxy_requests_total\{code="2xx"\} 2$/m);
  assert.match(text, /^petit_proxy_requests_total\{code="5xx"\} 1$/m);
  assert.match(text, /^petit_proxy_request_duration_seconds_bucket\{le="0.005"\} 3$/m);
  assert.match(text, /^petit_proxy_request_duration_seconds_count 4$/m);
  assert.match(text, /^petit_visitor_auth_failures_total\{reason="missing_or_wrong_token"\} 2$/m);
  assert.match(text, /^petit_visitor_auth_failures_total\{reason="rate_limited"\} 1$/m);
  assert.match(text, /^petit_registrations_total 1$/m);
  assert.match(text, /^petit_tunnels_up 1$/m);
  assert.match(text, /^petit_client_bytes_out_total\{client="1001",name="shop"\} 2048$/m);
  assert.match(text, /^petit_client_bytes_in_total\{client="1002",name=""\} 0$/m, "a client without traffic shows zeros");
});

test("ServerMetrics.view() gives the current requests per second over the last five seconds", () => {
  const metrics = new ServerMetrics();
  const c = metrics.client(1001);
  c.requests += 10;
  metrics.sample();
  c.requests += 5;
  metrics.sample();
  assert.equal(metrics.view(1001).requests_per_second, 3);
  for (let i = 0; i < 5; i++) metrics.sample();
  assert.equal(metrics.view(1001).requests_per_second, 0, "an idle client drops to 0");
  assert.deepEqual(metrics.view(4242), { requests: 0, connections_open: 0, connections_total: 0, bytes_in: 0, bytes_out: 0, requests_per_second: 0 });
});

test("countedBody() passes every chunk through unchanged and counts the bytes", async () => {
  const counters = new ServerMetrics().client(1);
  const chunks: Buffer[] = [];
  for await (const chunk of countedBody(Readable.from([Buffer.from("abc"), Buffer.from("defgh")]), counters)) chunks.push(chunk);
  assert.equal(Buffer.concat(chunks).toString(), "abcdefgh");
  assert.equal(counters.bytesIn, 8);
});

test("reasonLabel() names why ssh exited with a short fixed label", () => {
  assert.equal(reasonLabel(classifyExit(255, null, ["Permission denied (publickey)."])), "key_refused");
  assert.equal(reasonLabel(classifyExit(255, null, ["Host key verification failed."])), "host_key_mismatch");
  assert.equal(reasonLabel(classifyExit(255, null, ["Error: remote port forwarding failed for listen port 11000"])), "forward_refused");
  assert.equal(reasonLabel(classifyExit(255, null, ["ssh: connect to host r port 22: Connection refused"])), "relay_unreachable");
  assert.equal(reasonLabel(classifyExit(255, null, ["Connection reset by peer"])), "network");
  assert.equal(reasonLabel(classifyExit(null, "SIGKILL", [])), "killed");
  assert.equal(reasonLabel(classifyExit(1, null, ["something else"])), "ssh_exit");
});

test("ClientMetrics counts reconnects by reason and shows the tunnel's state", () => {
  const metrics = new ClientMetrics();
  metrics.exited(classifyExit(255, null, ["Connection reset by peer"]), 120);
  metrics.exited(classifyExit(255, null, ["Connection reset by peer"]));
  const text = metrics.render({ state: "paused", connected_since: null, restarts: 2, last_error: null, next_retry_at: null, ssh_pid: null, uptime_seconds: null }, 1001);
  assert.match(text, /^petit_client_reconnects_total\{client="1001",reason="network"\} 2$/m);
  assert.match(text, /^petit_client_tunnel_up\{client="1001"\} 0$/m);
  assert.match(text, /^petit_client_tunnel_state\{client="1001",state="paused"\} 1$/m);
  assert.match(text, /^petit_client_session_seconds_count\{client="1001"\} 1$/m);
});

test("ServerMetrics shows a 300 ms stall of the event loop as its delay, and starts a new window at each scrape", async () => {
  const metrics = new ServerMetrics();
  metrics.start();
  try {
    await new Promise((r) => setTimeout(r, 50));
    const until = Date.now() + 300;
    while (Date.now() < until); // a 300 ms stall, as a blocking call would make
    await new Promise((r) => setTimeout(r, 50));
    const max = (text: string) => Number(/^petit_event_loop_delay_max_seconds (\S+)$/m.exec(text)?.[1]);
    const first = metrics.render([]);
    assert.ok(max(first) >= 0.25, `max delay ${max(first)} s after a 300 ms stall`);
    assert.match(first, /^petit_event_loop_delay_p99_seconds \S+$/m);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(max(metrics.render([])) < max(first), "the stall is not counted again after the scrape");
  } finally {
    metrics.stop();
  }
});
