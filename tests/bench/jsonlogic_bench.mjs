// The json-logic-js side of scripts/bench's rule-evaluation comparison: the same rules on the
// same data as tests/bench/logic_bench.cpp, which writes them with --dump FILE. One evaluation is
// jsonLogic.truthy(jsonLogic.apply(rule, data)), what the engine's logic::test() does. Timed as
// logic_bench times ours: calibrated rounds of about --round-ms, median over --rounds of the
// wall-time rate, after a warm-up that lets V8 optimise the interpreter's code.
//
// Usage: node tests/bench/jsonlogic_bench.mjs CASES.json [--rounds N] [--round-ms N]
// Prints one JSON object; exits 1 when a result differs from ours.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const jsonLogic = require('json-logic-js');

const args = process.argv.slice(2);
if (args.length < 1) {
  console.error('usage: node jsonlogic_bench.mjs CASES.json [--rounds N] [--round-ms N]');
  process.exit(2);
}
let rounds = 15;
let roundMs = 100;
for (let i = 1; i < args.length; i += 2) {
  if (args[i] === '--rounds') rounds = Math.max(1, Number(args[i + 1]));
  else if (args[i] === '--round-ms') roundMs = Math.max(1, Number(args[i + 1]));
  else {
    console.error(`unknown argument ${args[i]}`);
    process.exit(2);
  }
}

const doc = JSON.parse(readFileSync(args[0], 'utf8'));
const cases = doc.cases.map(([r, d]) => [doc.rules[r], doc.data[d]]);

// Same results as ours, or the comparison is meaningless.
cases.forEach(([rule, data], i) => {
  const got = jsonLogic.truthy(jsonLogic.apply(rule, data));
  if (got !== doc.expected[i]) {
    console.error(`case ${i}: json-logic-js says ${got}, ours ${doc.expected[i]}: ` +
                  JSON.stringify(rule));
    process.exit(1);
  }
});

let sink = 0;
function pass() {
  for (let i = 0; i < cases.length; i++) {
    if (jsonLogic.truthy(jsonLogic.apply(cases[i][0], cases[i][1]))) sink++;
  }
}

const nowNs = () => process.hrtime.bigint();
// Warm-up: give the JIT about a second.
const warmEnd = nowNs() + 1_000_000_000n;
while (nowNs() < warmEnd) pass();

let passes = 1;
for (;;) {
  const start = nowNs();
  for (let i = 0; i < passes; i++) pass();
  const ms = Number(nowNs() - start) / 1e6;
  if (ms >= roundMs || passes >= 2 ** 30) break;
  passes *= 2;
}
const rates = [];
const cpuRates = [];
for (let r = 0; r < rounds; r++) {
  const cpu0 = process.cpuUsage();
  const start = nowNs();
  for (let i = 0; i < passes; i++) pass();
  const seconds = Number(nowNs() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const n = passes * cases.length;
  rates.push(n / seconds);
  cpuRates.push(n / ((cpu.user + cpu.system) / 1e6));
}
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const version = require('json-logic-js/package.json').version;
console.log(JSON.stringify({
  engine: `json-logic-js ${version}, node ${process.versions.node}`,
  rules: doc.rules.length,
  cases: cases.length,
  evaluations_per_s: Math.round(median(rates)),
  cpu_evaluations_per_s: Math.round(median(cpuRates)),
  rounds,
  sink,
}));
