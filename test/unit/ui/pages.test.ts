import { test } from "node:test";
import assert from "node:assert/strict";
import { Script } from "node:vm";
import { CLIENT_PAGE } from "../../../lib/ui/client-page.ts";
import { escapeHtml } from "../../../lib/ui/pages.ts";
import { RELAY_PAGE } from "../../../lib/ui/relay-page.ts";

for (const page of [CLIENT_PAGE, RELAY_PAGE]) {
  test(`the ${page.title} page's script is valid JavaScript`, () => {
    assert.doesNotThrow(() => new Script(page.js, { filename: `${page.title}.js` }));
  });

  test(`the ${page.title} page has no inline script or style, which its Content-Security-Policy would block`, () => {
    const html = page.html("petit_x_csrf");
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/);
    assert.doesNotMatch(html, /\sstyle=|<style|\son[a-z]+=/i);
  });

  test(`the ${page.title} page loads nothing from another origin`, () => {
    assert.doesNotMatch(page.html("c") + page.js + page.css, /https?:\/\/(?!\$\{)|\/\/cdn|@import/);
  });
}

test("the client console says that the name needs re-registration and why traffic is not shown", () => {
  const html = CLIENT_PAGE.html("c");
  assert.match(html, /to change it, run <code>petit register … --name NEW<\/code> again/);
  assert.match(html, /not counted here: they flow inside ssh/);
});

test("escapeHtml() escapes the five characters that matter", () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;");
});
