/**
 * The browser side both pages share: a small script library, served as the
 * start of each page's /ui/app.js. No inline script anywhere, so the pages
 * keep to the strict Content-Security-Policy (script-src 'self').
 * @module
 */

/**
 * The script library both pages start with. It defines `petit` (JSON calls
 * with the CSRF header, DOM building without innerHTML, toasts, the banner,
 * the confirmation dialog, number and time formats, sign-out) and `$`, short
 * for document.getElementById. It ends without a newline: each page's script
 * starts with one.
 */
export const COMMON_JS = String.raw`"use strict";
const petit = (() => {
  const csrfName = document.querySelector('meta[name="petit-csrf-cookie"]').content;
  const csrf = () => {
    for (const part of document.cookie.split(";")) {
      const [name, value] = part.trim().split("=");
      if (name === csrfName) return value;
    }
    return "";
  };
  const banner = (text) => {
    const el = document.getElementById("banner");
    el.textContent = text || "";
    el.hidden = !text;
  };
  let signedOut = false;
  /** Calls the JSON API; throws an Error with the daemon's message on failure. */
  const api = async (method, path, body) => {
    let res;
    try {
      // The API under /ui, the only path the session cookie is sent to.
      res = await fetch("/ui" + path, {
        method, cache: "no-store", credentials: "same-origin",
        headers: { "content-type": "application/json", "x-petit-csrf": csrf() },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      banner("The daemon does not answer (stopped?). This page retries every few seconds.");
      throw new Error("the daemon does not answer");
    }
    const data = await res.json().catch(() => ({}));
    if (res.status === 401) {
      signedOut = true;
      banner("Signed out (the daemon restarted, or the session ended): run the login command again for a new link.");
    } else if (!signedOut) banner("");
    if (!res.ok) throw new Error(data.error || res.status + " " + res.statusText);
    return data;
  };
  /** Makes an element: el("td", { className: "num" }, "12") — text always goes in as text, never as HTML. */
  const el = (tag, props, ...children) => {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
    return node;
  };
  let toastTimer;
  const toast = (text, bad) => {
    const node = document.getElementById("toast");
    node.textContent = text;
    node.className = "toast" + (bad ? " bad" : "");
    node.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { node.hidden = true; }, bad ? 8000 : 4000);
  };
  const bytes = (n) => {
    if (n === null || n === undefined) return "–";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? String(n) : n.toFixed(n < 10 ? 1 : 0)) + " " + units[i];
  };
  const duration = (seconds) => {
    seconds = Math.max(0, Math.round(seconds));
    const d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600), m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
    return [d ? d + "d" : "", d || h ? h + "h" : "", d || h || m ? m + "m" : "", s + "s"].filter(Boolean).join(" ");
  };
  const since = (iso) => iso ? duration((Date.now() - Date.parse(iso)) / 1000) : "–";
  const when = (iso) => iso ? new Date(iso).toLocaleString() : "never";
  /** Opens the <dialog> with id "confirm" showing title and text; resolves true on confirm. */
  const confirmDialog = (title, text, action) => new Promise((resolve) => {
    const dialog = document.getElementById("confirm");
    dialog.querySelector("h3").textContent = title;
    dialog.querySelector("p").textContent = text;
    dialog.querySelector("button[value=ok]").textContent = action;
    dialog.returnValue = "";
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
  });
  const logout = async () => {
    await fetch("/ui/logout", { method: "POST", headers: { "x-petit-csrf": csrf() } }).catch(() => undefined);
    location.reload();
  };
  return { api, el, toast, bytes, duration, since, when, banner, confirmDialog, logout };
})();

const $ = (id) => document.getElementById(id);`;
