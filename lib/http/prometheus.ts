/**
 * A tiny renderer of the Prometheus text exposition format (version 0.0.4):
 * `# HELP`, `# TYPE` and one line per sample, with labels escaped.
 * @module
 */

/** Content-Type of a /metrics answer. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** One sample: optional labels, a value, and a name suffix such as "_bucket" for histogram lines. */
export interface Sample {
  labels?: Record<string, string | number>;
  value: number;
  suffix?: string;
}

/** One metric family. */
export interface Metric {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  samples: Sample[];
}

/** Cumulative histogram state: upper bounds (seconds, ascending, no +Inf), a count per bucket, sum and count. */
export interface Histogram {
  bounds: readonly number[];
  /** counts[i] = observations ≤ bounds[i] and > bounds[i-1]; one more slot for above the last bound. */
  counts: number[];
  sum: number;
  count: number;
}

/** Returns an empty histogram with `bounds`. */
export function newHistogram(bounds: readonly number[]): Histogram {
  return { bounds, counts: new Array(bounds.length + 1).fill(0), sum: 0, count: 0 };
}

/** Records one observation of `value` in `histogram`; no allocation. */
export function observe(histogram: Histogram, value: number): void {
  const { bounds, counts } = histogram;
  let i = 0;
  while (i < bounds.length && value > bounds[i]) i++;
  counts[i]++;
  histogram.sum += value;
  histogram.count++;
}

/** Returns the `_bucket`, `_sum` and `_count` samples of `histogram` (buckets cumulative, ending with le="+Inf"). */
export function histogramSamples(histogram: Histogram, labels: Record<string, string | number> = {}): Sample[] {
  const samples: Sample[] = [];
  let cumulative = 0;
  histogram.bounds.forEach((bound, i) => {
    cumulative += histogram.counts[i];
    samples.push({ suffix: "_bucket", labels: { ...labels, le: formatValue(bound) }, value: cumulative });
  });
  samples.push({ suffix: "_bucket", labels: { ...labels, le: "+Inf" }, value: histogram.count });
  samples.push({ suffix: "_sum", labels, value: histogram.sum });
  samples.push({ suffix: "_count", labels, value: histogram.count });
  return samples;
}

/**
 * Renders metric families as Prometheus text.
 * @example
 * renderPrometheus([{ name: "petit_tunnels_up", help: "Tunnels connected now.", type: "gauge", samples: [{ value: 2 }] }]);
 * // "# HELP petit_tunnels_up Tunnels connected now.\n# TYPE petit_tunnels_up gauge\npetit_tunnels_up 2\n"
 */
export function renderPrometheus(metrics: Metric[]): string {
  const lines: string[] = [];
  for (const metric of metrics) {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(metric.name)) throw new Error(`Invalid metric name "${metric.name}"`);
    lines.push(`# HELP ${metric.name} ${metric.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
    lines.push(`# TYPE ${metric.name} ${metric.type}`);
    for (const sample of metric.samples) {
      lines.push(`${metric.name}${sample.suffix ?? ""}${formatLabels(sample.labels)} ${formatValue(sample.value)}`);
    }
  }
  return lines.length ? lines.join("\n") + "\n" : "";
}

function formatLabels(labels: Record<string, string | number> | undefined): string {
  if (!labels) return "";
  const parts = Object.entries(labels).map(([name, value]) => {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) throw new Error(`Invalid label name "${name}"`);
    return `${name}="${String(value).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
  });
  return parts.length ? `{${parts.join(",")}}` : "";
}

/** Formats a sample value: integers plainly, +Inf/-Inf/NaN as Prometheus spells them. */
function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}
