/**
 * The client's web console (`petit ui`): the tunnel's state live, start /
 * pause / resume / stop, the target editable, and the daemon's recent log.
 * @module
 */
import { CONFIRM_DIALOG, consolePage, type ConsolePage } from "./pages.ts";

const BODY = `
<header class="top"><h1>petit client <span id="client-label" class="muted"></span></h1>
<span id="state" class="badge">…</span><span id="state-detail" class="muted"></span><span class="spacer"></span>
<button id="logout" class="small">Sign out</button></header>
<main>
<div class="grid2">
<section class="card" id="tunnel"><h2>Tunnel</h2>
<dl class="facts">
<dt>ID</dt><dd id="f-id">–</dd>
<dt>Name</dt><dd id="f-name">–</dd>
<dt>Public URL</dt><dd><a id="f-url" target="_blank" rel="noopener noreferrer"></a></dd>
<dt>Target</dt><dd id="f-target" class="mono">–</dd>
<dt>Relay</dt><dd id="f-relay">–</dd>
<dt>Relay port</dt><dd id="f-port">–</dd>
<dt>Uptime</dt><dd id="f-uptime">–</dd>
<dt>Restarts</dt><dd id="f-restarts">–</dd>
<dt>Last error</dt><dd id="f-error">–</dd>
</dl>
<div class="actions">
<button id="start" title="Connect now: ends a pause or skips the wait before the next retry">Start</button>
<button id="pause">Pause</button>
<button id="stop" class="danger" title="Stop petit-clientd and its ssh; petit up starts them again">Stop</button>
</div>
<p class="hint">Pause stops ssh and keeps the daemon (and this page) running; the relay answers 502 for this client until you resume. Stop ends the daemon: start it again with <code>petit up</code>.</p>
</section>
<section class="card" id="config"><h2>Configuration</h2>
<form id="config-form" novalidate>
<label class="field"><span>Target (HOST:PORT of the service this tunnel leads to)</span>
<input id="target" name="target" class="mono" required autocomplete="off" spellcheck="false" placeholder="127.0.0.1:8080"></label>
<label class="field"><span>Name</span><input id="name" readonly>
<span class="hint">The name is part of the registration: to change it, run <code>petit register … --name NEW</code> again.</span></label>
<div class="actions"><button type="submit" class="primary" id="save">Save and apply</button></div>
<p class="hint" id="config-message">Saved to <span id="config-file" class="mono">config.toml</span>; applying restarts only ssh, not the daemon.</p>
</form>
</section>
</div>
<section class="card" id="traffic"><h2>Traffic</h2>
<p class="muted">Bytes and connections through the tunnel are not counted here: they flow inside ssh, straight from the relay to the target, and this daemon does not see them. The relay counts them per client: <code>petit server ui</code>, <code>petit server clients --json</code> or its <code>/metrics</code>.</p>
</section>
<section class="card"><h2>Log</h2>
<div class="toolbar"><label><input type="checkbox" id="follow" checked> Follow</label><span class="muted">the daemon's last 200 lines, live</span></div>
<pre class="log" id="log"></pre>
</section>
</main>
${CONFIRM_DIALOG}
`;

// Runs after the common script library (page-script.ts), which defines `petit` and `$`.
const SCRIPT = String.raw`
const LABELS = { connected: "Connected", connecting: "Connecting…", retrying: "Retrying", error: "Error", paused: "Paused", stopped: "Stopped" };
let current = null;
let logAfter = 0;
let stopped = false;

function render(s) {
  current = s;
  $("client-label").textContent = s.id + (s.name ? " · " + s.name : "");
  const badge = $("state");
  badge.textContent = LABELS[s.state] || s.state;
  badge.className = "badge state-" + s.state;
  let detail = "";
  if (s.state === "retrying" && s.next_retry_at) detail = "next try in " + petit.duration((Date.parse(s.next_retry_at) - Date.now()) / 1000);
  if (s.state === "error") detail = s.last_error || "";
  if (s.state === "connected" && s.connected_since) detail = "for " + petit.since(s.connected_since);
  $("state-detail").textContent = detail;
  $("f-id").textContent = s.id;
  $("f-name").textContent = s.name || "–";
  $("f-url").textContent = s.public_url;
  $("f-url").href = s.public_url;
  $("f-target").textContent = s.target;
  $("f-relay").textContent = s.relay;
  $("f-port").textContent = s.port;
  $("f-uptime").textContent = s.connected_since ? petit.since(s.connected_since) : "–";
  $("f-restarts").textContent = s.restarts;
  const error = $("f-error");
  error.textContent = s.last_error || "–";
  error.className = s.last_error ? "error-text" : "";
  $("pause").textContent = s.state === "paused" ? "Resume" : "Pause";
  $("pause").disabled = s.state === "stopped";
  $("start").disabled = s.state === "connected" || s.state === "connecting";
}

async function refresh() {
  if (stopped) return;
  try {
    render(await petit.api("GET", "/v1/status"));
  } catch (error) {
    $("state").textContent = "No answer";
    $("state").className = "badge state-stopped";
  }
}

async function followLog() {
  if (stopped) return;
  try {
    const answer = await petit.api("GET", "/v1/logs?after=" + logAfter);
    const pre = $("log");
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    for (const entry of answer.lines) pre.append(entry.time.replace("T", " ").replace(/\.\d+Z$/, "") + "  " + entry.line + "\n");
    while (pre.childNodes.length > 400) pre.firstChild.remove();
    logAfter = answer.next;
    if ($("follow").checked && (atBottom || answer.lines.length)) pre.scrollTop = pre.scrollHeight;
  } catch {}
}

async function act(path, done) {
  try {
    render(await petit.api("POST", path));
    if (done) petit.toast(done);
  } catch (error) {
    petit.toast(error.message, true);
  }
}

$("start").addEventListener("click", () => act("/v1/start", "Connecting now"));
$("pause").addEventListener("click", () => current && current.state === "paused"
  ? act("/v1/resume", "Resumed: ssh is connecting")
  : act("/v1/pause", "Paused: ssh stopped"));
$("stop").addEventListener("click", async () => {
  const ok = await petit.confirmDialog("Stop petit-clientd?", "The tunnel closes and this page stops answering until you run \"petit up\" again. (Under systemd, systemd starts it again within seconds: use Pause instead.)", "Stop");
  if (!ok) return;
  try {
    await petit.api("POST", "/v1/stop");
    stopped = true;
    $("state").textContent = "Stopped";
    $("state").className = "badge state-stopped";
    petit.banner("petit-clientd is stopping. Run \"petit up\" to start it again.");
  } catch (error) {
    petit.toast(error.message, true);
  }
});
$("logout").addEventListener("click", petit.logout);

const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;
// Set once the user types: the page's own loading must never overwrite what they typed.
let targetEdited = false;
$("target").addEventListener("input", () => {
  targetEdited = true;
  const value = $("target").value.trim();
  const match = HOST_PORT.exec(value);
  const ok = match && Number(match[1]) >= 1 && Number(match[1]) <= 65535;
  $("target").setAttribute("aria-invalid", ok ? "false" : "true");
  $("save").disabled = !ok;
});
$("config-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const message = $("config-message");
  try {
    const answer = await petit.api("POST", "/v1/config", { target: $("target").value.trim() });
    message.className = "hint";
    message.textContent = "Saved to " + answer.config_file + "; ssh restarted with target " + answer.target + "." +
      (answer.target_reachable ? "" : " Warning: nothing answers on " + answer.target + " right now.");
    petit.toast("Target saved: " + answer.target);
    refresh();
  } catch (error) {
    message.className = "hint error-text";
    message.textContent = error.message;
  }
});

async function loadConfig() {
  try {
    const config = await petit.api("GET", "/v1/config");
    if (!targetEdited) $("target").value = config.target;
    $("name").value = config.name || "(none)";
    $("config-file").textContent = config.config_file || "config.toml";
  } catch (error) {
    petit.toast(error.message, true);
  }
}

loadConfig();
refresh();
followLog();
setInterval(refresh, 1000);
setInterval(followLog, 1000);
`;

/** The client console page. */
export const CLIENT_PAGE: ConsolePage = consolePage("petit client", BODY, SCRIPT);
