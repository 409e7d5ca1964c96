/**
 * The relay's dashboard (`petit server ui`): every client with its state and
 * traffic, a search box, revoke with confirmation, and enrollment tokens.
 * @module
 */
import { CONFIRM_DIALOG, consolePage, type ConsolePage } from "./pages.ts";

const BODY = `
<header class="top"><h1>petit relay</h1><span id="summary" class="muted">…</span><span class="spacer"></span>
<button id="logout" class="small">Sign out</button></header>
<main>
<section class="card" id="clients"><h2>Clients</h2>
<div class="toolbar"><input type="search" id="search" placeholder="Search by ID, name or host name" aria-label="Search clients">
<span id="shown" class="muted"></span></div>
<div class="table-wrap"><table id="clients-table"><thead><tr>
<th class="num">ID</th><th>Name</th><th>Host name</th><th class="num">Port</th><th>State</th><th title="The relay holding the tunnel, when several share a store">Relay</th>
<th class="num" title="Requests in flight and pipes open now / all since the relay started">Connections</th>
<th class="num">In</th><th class="num">Out</th><th class="num" title="Requests per second, last 5 s">Req/s</th><th></th>
</tr></thead><tbody></tbody></table></div>
<p class="hint">Counters (connections, bytes, requests per second) count since petit-serverd started; bytes are request and response bodies and CONNECT/WebSocket pipe bytes.</p>
</section>
<section class="card" id="tokens"><h2>Enrollment tokens</h2>
<div class="table-wrap"><table id="tokens-table"><thead><tr><th>ID</th><th>Label</th><th>Created</th><th>Expires</th><th class="num">Uses left</th><th>State</th><th></th></tr></thead><tbody></tbody></table></div>
<h3 class="muted sub">New token</h3>
<form id="token-form" class="inline" novalidate>
<label class="field"><span>Label</span><input id="token-label" placeholder="office-nas"></label>
<label class="field"><span>Expires after</span><input id="token-expires" placeholder="7d" size="6"></label>
<label class="field"><span>Uses</span><input id="token-uses" type="number" min="1" placeholder="any"></label>
<button type="submit" class="primary">Create token</button>
</form>
<p class="hint" id="token-message">Durations like 30m, 12h or 7d; empty: no expiry, any number of uses. The token is shown once.</p>
<div id="token-created" hidden><code class="secret" id="token-value"></code><p class="hint">Give it to the client: <code>petit register URL --token TOKEN</code>. It is not shown again.</p></div>
</section>
</main>
${CONFIRM_DIALOG}
`;

// Runs after the common script library (page-script.ts), which defines `petit` and `$`.
const SCRIPT = String.raw`
const { el } = petit;
let clients = [];

function matches(c, query) {
  if (!query) return true;
  return [String(c.id), c.name || "", c.host || ""].some((text) => text.toLowerCase().includes(query));
}

function renderClients() {
  const query = $("search").value.trim().toLowerCase();
  const shown = clients.filter((c) => matches(c, query));
  const online = clients.filter((c) => c.online).length;
  $("summary").textContent = clients.length + " client" + (clients.length === 1 ? "" : "s") + ", " + online + " online";
  $("shown").textContent = query ? shown.length + " of " + clients.length + " shown" : "";
  const body = $("clients-table").tBodies[0];
  body.replaceChildren(...shown.map((c) => el("tr", { className: c.online ? "online" : "offline", id: "client-" + c.id },
    el("td", { className: "num" }, c.id),
    el("td", {}, c.name || "–"),
    el("td", { className: "mono" }, c.host),
    el("td", { className: "num" }, c.port),
    el("td", {}, el("span", { className: "badge " + (c.online ? "ok" : "off") }, c.online ? "online" : "offline"), " ",
      el("span", { className: "muted" }, c.online ? "for " + petit.since(c.online_since) : "last seen " + petit.when(c.last_seen))),
    el("td", { className: "mono" }, c.relay || "–"),
    el("td", { className: "num" }, (c.connections_open ?? 0) + " / " + (c.connections_total ?? 0)),
    el("td", { className: "num" }, petit.bytes(c.bytes_in ?? 0)),
    el("td", { className: "num" }, petit.bytes(c.bytes_out ?? 0)),
    el("td", { className: "num" }, (c.requests_per_second ?? 0).toFixed(1)),
    el("td", {}, el("button", { className: "danger small", textContent: "Revoke", onclick: () => revoke(c) })),
  )));
  if (!shown.length) body.append(el("tr", {}, el("td", { colSpan: 11, className: "muted" }, clients.length ? "No client matches." : "No clients registered yet.")));
}

async function revoke(c) {
  const who = c.id + (c.name ? " (" + c.name + ")" : "");
  const ok = await petit.confirmDialog("Revoke client " + who + "?",
    "Its key is removed and its tunnel ends now; " + c.host + " stops answering. The ID is never handed out again; the client must register anew.", "Revoke");
  if (!ok) return;
  try {
    const answer = await petit.api("POST", "/v1/clients/" + encodeURIComponent(c.id) + "/revoke");
    petit.toast("Revoked client " + answer.id + "; ended " + answer.sessions_ended + " session(s)");
    refreshClients();
  } catch (error) {
    petit.toast(error.message, true);
  }
}

async function refreshClients() {
  try {
    clients = await petit.api("GET", "/v1/clients");
    renderClients();
  } catch {}
}

async function refreshTokens() {
  try {
    const tokens = await petit.api("GET", "/v1/tokens");
    $("tokens-table").tBodies[0].replaceChildren(...tokens.map((t) => el("tr", {},
      el("td", { className: "mono" }, t.id),
      el("td", {}, t.label || "–"),
      el("td", {}, t.created ? petit.when(t.created) : "–"),
      el("td", {}, t.expires ? petit.when(t.expires) : "never"),
      el("td", { className: "num" }, t.uses_left === null ? "any" : t.uses_left),
      el("td", {}, el("span", { className: "badge " + (t.valid ? "ok" : "off") }, t.valid ? "valid" : "used up or expired")),
      el("td", {}, t.id === "main" ? el("span", { className: "muted" }, "rotate with petit server token rotate")
        : el("button", { className: "danger small", textContent: "Revoke", onclick: () => revokeToken(t) })),
    )));
  } catch {}
}

async function revokeToken(t) {
  const ok = await petit.confirmDialog("Revoke token " + t.id + "?", "No new client can register with it. Clients already registered with it stay.", "Revoke");
  if (!ok) return;
  try {
    await petit.api("POST", "/v1/tokens/" + encodeURIComponent(t.id) + "/revoke");
    petit.toast("Revoked token " + t.id);
    refreshTokens();
  } catch (error) {
    petit.toast(error.message, true);
  }
}

$("token-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const message = $("token-message");
  const body = {};
  if ($("token-label").value.trim()) body.label = $("token-label").value.trim();
  if ($("token-expires").value.trim()) body.expires = $("token-expires").value.trim();
  if ($("token-uses").value.trim()) body.uses = Number($("token-uses").value);
  try {
    const answer = await petit.api("POST", "/v1/tokens", body);
    $("token-value").textContent = answer.token;
    $("token-created").hidden = false;
    message.className = "hint";
    message.textContent = "Created token " + answer.id + ".";
    $("token-form").reset();
    refreshTokens();
  } catch (error) {
    message.className = "hint error-text";
    message.textContent = error.message;
  }
});

$("search").addEventListener("input", renderClients);
$("logout").addEventListener("click", petit.logout);
refreshClients();
refreshTokens();
setInterval(refreshClients, 2000);
setInterval(refreshTokens, 15000);
`;

/** The relay dashboard page. */
export const RELAY_PAGE: ConsolePage = consolePage("petit relay", BODY, SCRIPT);
