import { test } from "node:test";
import assert from "node:assert/strict";
import { histogramSamples, newHistogram, observe, renderPrometheus } from "../../../lib/http/prometheus.ts";

test("renderPrometheus() writes HELP, TYPE and one line per sample", () => {
  const text = renderPrometheus([
    { name: "petit_tunnels_up", help: "Tunnels connected now.", type: "gauge", samples: [{ value: 2 }] },
    { name: "petit_proxy_requests_total", help: "Requests.", type: "counter", samples: [{ labels: { code: "2xx" }, value: 7 }, { labels: { code: "5xx" }, value: 0 }] },
  ]);
  assert.equal(text, [
    "# HELP petit_tunnels_up Tunnels connected now.",
    "# TYPE petit_tunnels_up gauge",
    "petit_tunnels_up 2",
    "# HELP petit_proxy_requests_total Requests.",
    "# TYPE petit_proxy_requests_total counter",
    'petit_proxy_requests_total{code="2xx"} 7',
    'petit_proxy_requests_total{code="5xx"} 0',
    "",
  ].join("\n"));
});

test("renderPrometheus() escapes backslashes, quotes and newlines in label values and help", () => {
  const text = renderPrometheus([{ name: "m", help: "a\\b\nc", type: "gauge", samples: [{ labels: { name: 'x"y\\z\nw', client: 1001 }, value: 1 }] }]);
  assert.match(text, /^# HELP m a\\\\b\\nc$/m);
  assert.match(text, /^m\{name="x\\"y\\\\z\\nw",client="1001"\} 1$/m);
});

test("renderPrometheus() spells infinities and NaN as Prometheus does", () => {
  const text = renderPrometheus([{ name: "m", help: "h", type: "gauge", samples: [{ value: Infinity }, { value: -Infinity }, { value: NaN }] }]);
  assert.deepEqual(text.trim().split("\n").slice(2), ["m +Inf", "m -Inf", "m NaN"]);
});

test("renderPrometheus() refuses a bad metric or label name instead of writing a broken exposition", () => {
  assert.throws(() => renderPrometheus([{ name: "bad-name", help: "h", type: "gauge", samples: [] }]), /Invalid metric name "bad-name"/);
  assert.throws(() => renderPrometheus([{ name: "m", help: "h", type: "gauge", samples: [{ labels: { "a-b": 1 }, value: 1 }] }]), /Invalid label name "a-b"/);
});

test("renderPrometheus() of nothing is empty", () => {
  assert.equal(renderPrometheus([]), "");
});

test("histogramSamples() gives cumulative buckets ending with +Inf, then sum and count", () => {
  const h = newHistogram([0.1, 1]);
  for (const v of [0.05, 0.1, 0.5, 3]) observe(h, v);
  const text = renderPrometheus([{ name: "d", help: "h", type: "histogram", samples: histogramSamples(h, { client: 1 }) }]);
  assert.deepEqual(text.trim().split("\n").slice(2), [
    'd_bucket{client="1",le="0.1"} 2',
    'd_bucket{client="1",le="1"} 3',
    'd_bucket{client="1",le="+Inf"} 4',
    'd_sum{client="1"} 3.65',
    'd_count{client="1"} 4',
  ]);
});
