// Runs the extension's balloon-fields.js and balloon.js on a built page in jsdom and
// prints, per sample box (in page order), the text and title of every span.balloon-field, and
// the block's text: tests/test_sphinx_script.py compares them with the schemas.
// Usage: node describe.mjs PAGE.html STATIC_DIR
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { JSDOM } from "jsdom";

const [page, staticDir] = process.argv.slice(2);
const dom = new JSDOM(readFileSync(page, "utf-8"), { runScripts: "outside-only" });
const errors = [];
dom.window.addEventListener("error", (event) => errors.push(String(event.message)));
for (const name of ["balloon-fields.js", "balloon.js"]) {
  dom.window.eval(readFileSync(join(staticDir, name), "utf-8"));
}
await new Promise((resolve) => {
  if (dom.window.document.readyState === "loading") {
    dom.window.document.addEventListener("DOMContentLoaded", () => setTimeout(resolve, 0));
  } else {
    setTimeout(resolve, 0);
  }
});
const samples = [];
for (const box of dom.window.document.querySelectorAll("div.balloon-sample")) {
  const pre = box.querySelector("pre");
  samples.push({
    text: pre ? pre.textContent : "",
    fields: [...box.querySelectorAll("span.balloon-field")].map((s) => [s.textContent, s.title]),
  });
}
process.stdout.write(JSON.stringify({ samples, errors }));
