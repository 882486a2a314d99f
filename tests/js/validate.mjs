// Validates instances with ajv's Ajv2020 class in its default strict mode, the way a
// JavaScript tool author would consume the exported schemas (docs/consuming-schemas.rst).
//
// Reads one JSON job on stdin:
//   {"folder": DIR, "bundled": DIR, "keywords": [...], "meta": ID, "cases": [[ID, INSTANCE], ...]}
// "folder" holds the $id-relative files of `balloon-conform schema export`; every
// *.schema.json under it is added by its $id (the meta-schema "meta" with addMetaSchema).
// Each file of "bundled" is compiled alone, in a fresh Ajv2020, as a tool would load it.
// Prints {"compiled": [...ids], "errors": {id: message}, "bundled": {file: error or null},
// "warnings": N, "verdicts": [true|false|null, ...]} (null: the schema did not compile).
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import fs from "node:fs";
import path from "node:path";

const job = JSON.parse(fs.readFileSync(0, "utf-8"));
let warnings = 0;
const logger = { log() {}, warn() { warnings += 1; }, error() { warnings += 1; } };

function strictAjv() {
  const ajv = new Ajv2020({ logger });
  addFormats(ajv);
  // The one call that registers our annotation keywords, so strict mode accepts them.
  ajv.addVocabulary(job.keywords);
  return ajv;
}
const ajv = strictAjv();

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return walk(full);
    return entry.name.endsWith(".schema.json") ? [full] : [];
  });
}

const documents = walk(job.folder).map((file) => JSON.parse(fs.readFileSync(file, "utf-8")));
for (const doc of documents) {
  if (doc.$id === job.meta) ajv.addMetaSchema(doc);
}
for (const doc of documents) {
  if (doc.$id !== job.meta) ajv.addSchema(doc);
}
const compiled = [];
const errors = {};
const validators = {};
for (const doc of documents) {
  try {
    validators[doc.$id] = ajv.getSchema(doc.$id);
    compiled.push(doc.$id);
  } catch (exc) {
    errors[doc.$id] = exc.message;
  }
}
const bundled = {};
for (const file of walk(job.bundled)) {
  try {
    strictAjv().compile(JSON.parse(fs.readFileSync(file, "utf-8")));
    bundled[path.relative(job.bundled, file)] = null;
  } catch (exc) {
    bundled[path.relative(job.bundled, file)] = exc.message;
  }
}
const verdicts = job.cases.map(([id, instance]) => (validators[id] ? validators[id](instance) : null));
process.stdout.write(JSON.stringify({ compiled, errors, bundled, warnings, verdicts }));
