// Preloaded with NODE_OPTIONS="--import …" into a petit CLI under test: names under petit.test resolve to
// 127.0.0.1 (as the test CA's DNS says), so "petit register https://petit.test:PORT" checks the real certificate.
import dns from "node:dns";

const original = dns.lookup;
dns.lookup = function lookup(hostname, options, callback) {
  if (typeof options === "function") [callback, options] = [options, {}];
  if (typeof hostname === "string" && /(^|\.)petit\.test\.?$/i.test(hostname)) {
    const all = typeof options === "object" && options?.all;
    return process.nextTick(() => (all ? callback(null, [{ address: "127.0.0.1", family: 4 }]) : callback(null, "127.0.0.1", 4)));
  }
  return original.call(this, hostname, options, callback);
};
