#!/usr/bin/env node
// Evaluates every case of the differential corpus with the reference implementation,
// json-logic-js, and writes the canonical encoding of each result (or "throws").
//
// usage: node run_reference.js CORPUS_JSON OUTPUT_JSON NODE_MODULES_DIR
//
// The encoding must stay identical to loyalty::logic::canonical_encoding (value.hpp):
//   undefined | null | true | false | n:<String(x)> (n:-0 for negative zero)
//   | "<string, code units outside printable ASCII as \uXXXX>" | [a,b] | {"k":v} (keys sorted)
"use strict";

const fs = require("fs");
const path = require("path");

const [corpusPath, outputPath, modulesDir] = process.argv.slice(2);
if (!corpusPath || !outputPath || !modulesDir) {
  console.error("usage: node run_reference.js CORPUS_JSON OUTPUT_JSON NODE_MODULES_DIR");
  process.exit(2);
}

const packageDir = path.join(path.resolve(modulesDir), "json-logic-js");
let version;
try {
  version = JSON.parse(fs.readFileSync(path.join(packageDir, "package.json"), "utf8")).version;
} catch (e) {
  console.error(`json-logic-js is not installed in ${modulesDir} (${e.message}); ` +
                "run `npm ci` in tests/ (scripts/test does)");
  process.exit(1);
}
if (version !== "2.0.5") {
  console.error(`expected json-logic-js 2.0.5 in ${packageDir}, found ${version}`);
  process.exit(1);
}
const jsonLogic = require(packageDir);

function quote(s) {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    if (u === 0x22) out += '\\"';
    else if (u === 0x5c) out += "\\\\";
    else if (u >= 0x20 && u <= 0x7e) out += s[i];
    else out += "\\u" + u.toString(16).padStart(4, "0");
  }
  return out + '"';
}

function canonical(v) {
  if (v === undefined) return "undefined";
  if (v === null) return "null";
  switch (typeof v) {
    case "boolean":
      return v ? "true" : "false";
    case "number":
      return "n:" + (Object.is(v, -0) ? "-0" : String(v));
    case "string":
      return quote(v);
    case "object":
      if (Array.isArray(v)) {
        const items = [];
        for (let i = 0; i < v.length; i++) items.push(canonical(v[i]));
        return "[" + items.join(",") + "]";
      } else {
        const members = Object.keys(v).map((k) => [quote(k), canonical(v[k])]);
        members.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
        return "{" + members.map((m) => m[0] + ":" + m[1]).join(",") + "}";
      }
    default:
      return "<" + typeof v + ">";
  }
}

const corpus = JSON.parse(fs.readFileSync(corpusPath, "utf8"));
// log prints; the engine's log does not. Keep the output of this runner clean.
console.log = () => {};
const results = corpus.cases.map((c) => {
  const data = Object.prototype.hasOwnProperty.call(c, "data") ? c.data : null;
  let result;
  try {
    result = canonical(jsonLogic.apply(c.rule, data));
  } catch (e) {
    result = "throws";
  }
  return { name: c.name, result };
});
fs.writeFileSync(outputPath, JSON.stringify({ implementation: "json-logic-js " + version, results }, null, 1));
process.stderr.write(`json-logic-js ${version}: evaluated ${results.length} cases\n`);
