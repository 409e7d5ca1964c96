import { spawnSync } from "node:child_process";
const rows = process.argv.slice(2).map((a) => ({ argv: a.split(" "), t: [] }));
for (let i = 0; i < 31; i++) for (const r of rows) { const s = performance.now(); spawnSync(r.argv[0], r.argv.slice(1), { stdio: "ignore", env: { ...process.env, PETIT_HOME: "/tmp/nohome" } }); r.t.push(performance.now() - s); }
for (const r of rows) { r.t.sort((a, b) => a - b); console.log(r.argv.join(" ").padEnd(70), r.t[15].toFixed(0), "min", r.t[0].toFixed(0)); }
