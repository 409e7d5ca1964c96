/**
 * The style sheet of the web console and the relay dashboard: system fonts,
 * light and dark, no external resources.
 * @module
 */

/** The style sheet of both pages. */
export const COMMON_CSS = String.raw`
:root { --bg: #f6f7f9; --fg: #1d2330; --muted: #667085; --card: #fff; --line: #e3e6eb; --accent: #2f6fdf;
  --ok: #1f8a4c; --warn: #b7791f; --bad: #c53030; --idle: #718096; color-scheme: light dark; }
@media (prefers-color-scheme: dark) { :root { --bg: #14171c; --fg: #e6e9ef; --muted: #98a2b3; --card: #1c2027; --line: #2c323c; --accent: #6ea0ff; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
header.top { display: flex; align-items: center; gap: 12px; padding: 14px 24px; border-bottom: 1px solid var(--line); background: var(--card); }
header.top h1 { font-size: 17px; margin: 0; font-weight: 600; }
header.top .spacer { flex: 1; }
main { max-width: 1180px; margin: 0 auto; padding: 20px 24px 40px; display: grid; gap: 18px; }
main.narrow { max-width: 560px; padding-top: 60px; display: block; }
section.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px; }
section.card h2 { font-size: 14px; margin: 0 0 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(360px, 1fr)); gap: 18px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.badge { display: inline-block; padding: 3px 10px; border-radius: 999px; font-weight: 600; font-size: 12.5px; color: #fff; background: var(--idle); }
.state-connected, .badge.ok { background: var(--ok); }
.state-connecting, .state-retrying { background: var(--warn); }
.state-error { background: var(--bad); }
.state-paused, .state-stopped, .badge.off { background: var(--idle); }
.muted { color: var(--muted); }
.error-text { color: var(--bad); }
.actions { display: flex; gap: 8px; flex-wrap: wrap; margin-top: 14px; }
button { font: inherit; padding: 6px 14px; border-radius: 7px; border: 1px solid var(--line); background: var(--card); color: var(--fg); cursor: pointer; }
button:hover:not(:disabled) { border-color: var(--accent); }
button:disabled { opacity: .45; cursor: default; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.danger { color: var(--bad); border-color: color-mix(in srgb, var(--bad) 40%, var(--line)); }
button.danger.solid { background: var(--bad); color: #fff; border-color: var(--bad); }
button.small { padding: 3px 10px; font-size: 12.5px; }
input, select { font: inherit; padding: 6px 9px; border-radius: 7px; border: 1px solid var(--line); background: var(--bg); color: var(--fg); }
input:read-only { color: var(--muted); }
input[aria-invalid="true"] { border-color: var(--bad); }
label.field { display: grid; gap: 4px; margin-bottom: 12px; }
label.field span { color: var(--muted); font-size: 12.5px; }
.hint { font-size: 12.5px; color: var(--muted); margin: 4px 0 0; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 7px 8px; border-bottom: 1px solid var(--line); vertical-align: middle; white-space: nowrap; }
th { color: var(--muted); font-weight: 500; font-size: 12.5px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.offline td { color: var(--muted); }
.table-wrap { overflow-x: auto; }
pre.log { margin: 0; max-height: 340px; overflow: auto; background: var(--bg); border: 1px solid var(--line); border-radius: 7px; padding: 10px; white-space: pre-wrap; word-break: break-word; }
.toolbar { display: flex; gap: 10px; align-items: center; margin-bottom: 10px; flex-wrap: wrap; }
.toolbar input[type=search] { flex: 1; min-width: 200px; }
.banner { background: var(--bad); color: #fff; padding: 10px 24px; font-weight: 500; }
.toast { position: fixed; right: 20px; bottom: 20px; background: var(--fg); color: var(--bg); padding: 10px 16px; border-radius: 8px; max-width: 480px; box-shadow: 0 6px 24px rgba(0,0,0,.2); }
.toast.bad { background: var(--bad); color: #fff; }
dialog { border: 1px solid var(--line); border-radius: 10px; background: var(--card); color: var(--fg); padding: 20px 22px; max-width: 460px; }
dialog::backdrop { background: rgba(0,0,0,.35); }
dialog h3 { margin: 0 0 8px; font-size: 16px; }
.secret { display: block; padding: 8px 10px; border-radius: 7px; background: var(--bg); border: 1px dashed var(--accent); overflow-wrap: anywhere; margin: 8px 0; }
form.inline { display: flex; gap: 8px; flex-wrap: wrap; align-items: end; }
form.inline label.field { margin: 0; }
h3.sub { font-size: 13px; margin: 18px 0 8px; }
#token-uses { width: 7em; }
`;
