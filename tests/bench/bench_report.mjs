// The table of scripts/bench: reads the JSON results the run left in a folder, prints the
// figures with their ratios and the targets of the issue, and says which figures are missing.
//
// Usage: node tests/bench/bench_report.mjs RESULTS_DIR
// Prints Markdown on stdout. Exit status: 0 when every figure was produced, 1 otherwise (the
// targets being met or not does not change it: a benchmark reports, it does not fail builds).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node bench_report.mjs RESULTS_DIR');
  process.exit(2);
}

const missing = [];
function load(name) {
  const file = join(dir, `${name}.json`);
  if (!existsSync(file)) {
    missing.push(name);
    return null;
  }
  try {
    const text = readFileSync(file, 'utf8').trim();
    try {
      return JSON.parse(text);
    } catch {
      // A program's output with other lines before its JSON line.
      return JSON.parse(text.split('\n').filter((l) => l.startsWith('{')).pop());
    }
  } catch (e) {
    missing.push(`${name} (unreadable: ${e.message})`);
    return null;
  }
}

// A closed-loop figure measured in rounds (scripts/bench alternates it with its baseline):
// NAME.r1.json, NAME.r2.json, ... with the server's side of each in NAME.rK.server.json. Pooled
// as one run: the requests of all slices over their measured seconds, the server's CPU over all
// their responses. Each slice's run stays in `roundsOf` for the ratio of each round.
const roundsOf = new Map();
// {key: number} objects added key by key.
function sumEntries(objects) {
  const total = {};
  for (const o of objects) {
    for (const [k, v] of Object.entries(o ?? {})) total[k] = (total[k] ?? 0) + v;
  }
  return total;
}
function pooled(name) {
  const slices = [];
  for (let r = 1; existsSync(join(dir, `${name}.r${r}.json`)); ++r) {
    const run = load(`${name}.r${r}`);
    const sched = load(`${name}.r${r}.server`);
    if (!run || !sched) return null;
    slices.push({ run, sched });
  }
  // A slice whose generator failed leaves no file (scripts/bench's load()): pooling the others
  // would hide it.
  const expected = meta.rounds ?? 1;
  if (slices.length !== expected) {
    missing.push(slices.length === 0 ? name : `${name} (${slices.length} of ${expected} rounds)`);
    return null;
  }
  const sum = (f) => slices.reduce((acc, s) => acc + f(s), 0);
  const requests = sum((s) => s.run.requests);
  const seconds = sum((s) => s.run.duration_s);
  roundsOf.set(name, slices.map((s) => s.run));
  serverRuns.set(name, {
    on_core_s: sum((s) => s.sched.on_core_s),
    queued_s: sum((s) => s.sched.queued_s),
    wall_s: sum((s) => s.sched.wall_s),
    disk_read_bytes: sum((s) => s.sched.disk_read_bytes),
    threads_on_core_s: sumEntries(slices.map((s) => s.sched.threads_on_core_s)),
  });
  return {
    requests,
    duration_s: seconds,
    rate: seconds > 0 ? requests / seconds : 0,
    all_responses: sum((s) => s.run.all_responses),
    errors: sum((s) => s.run.errors),
    non_2xx: sum((s) => s.run.non_2xx),
    statuses: sumEntries(slices.map((s) => s.run.statuses)),
    generator_cpu: Math.max(...slices.map((s) => s.run.generator_cpu)),
  };
}
// The ratio of each round's rates, as "0.27, 0.29, 0.28": how far the machine moved the ratio
// while the pooled one was taken.
function roundRatios(name, base, digits) {
  const a = roundsOf.get(name);
  const b = roundsOf.get(base);
  if (!a || !b || a.length !== b.length || a.length < 2) return '';
  const each = a.map((run, i) => n(run.rate / b[i].rate, digits));
  return ` (rounds ${each.join(', ')})`;
}

const serverRuns = new Map();
const meta = load('meta') ?? {};
const get = pooled('ceiling_get');
const post = pooled('ceiling_post');
const storage = load('storage');
const lookups = pooled('lookups');
const gc = pooled('purchases_group_commit');
const off = pooled('purchases_batching_off');
const latency = load('purchase_latency');
const ours = load('logic_ours');
const js = load('logic_jsonlogic');
const memory = load('memory');
const activation = load('activation');

// A figure is present when it is a finite positive number.
const ok = (v) => typeof v === 'number' && Number.isFinite(v) && v > 0;
function need(name, v) {
  if (!ok(v)) missing.push(name);
  return ok(v) ? v : null;
}
// A closed- or open-loop run counts only when it had no errors and only 2xx answers.
function rate(name, run) {
  if (!run) return null;
  if (run.errors > 0 || run.non_2xx > 0) {
    missing.push(`${name} (${run.errors} connection errors, ${run.non_2xx} non-2xx: ` +
                 `${JSON.stringify(run.statuses)})`);
    return null;
  }
  return need(name, run.rate);
}

const getRate = rate('HTTP ceiling GET', get);
const postRate = rate('HTTP ceiling POST', post);
const lookupRate = rate('member lookups', lookups);
const gcRate = rate('durable purchases, group commit', gc);
const offRate = rate('durable purchases, batching off', off);
const storageSingle = need('storage ceiling, 1 per commit', storage?.single?.purchases_per_s);
const storageBatched = need('storage ceiling, batched', storage?.batched?.purchases_per_s);
let latencyOk = latency && rate('purchase latency run', latency) !== null;
if (latencyOk && latency.unsent > 0.01 * latency.target_rate * latency.duration_s) {
  // The server fell behind the schedule: the latencies of what was sent understate the truth.
  missing.push(`purchase latency (the server could not keep up with ${latency.target_rate}/s: ` +
               `${latency.unsent} requests never sent)`);
  latencyOk = false;
}
const p50 = latencyOk ? need('latency p50', latency.latency_us.p50) : null;
const p99 = latencyOk ? need('latency p99', latency.latency_us.p99) : null;
const p999 = latencyOk ? need('latency p99.9', latency.latency_us.p999) : null;
const oursCpu = need('rule evaluations (ours)', ours?.cpu_evaluations_per_s);
const jsCpu = need('rule evaluations (json-logic-js)', js?.cpu_evaluations_per_s);
const rssIdle = need('RSS idle', memory?.idle_kib);
const rssLoaded = need('RSS after load', memory?.after_load_kib);
const rssHeld = need('RSS with connections held', memory?.held_kib);
// VmHWM is updated lazily; the peak is at least every reading taken.
const rssPeak = need('peak RSS', Math.max(memory?.peak_kib ?? 0, memory?.held_kib ?? 0,
                                          memory?.after_load_kib ?? 0) || null);
const held = memory?.held_connections ?? 0;
// The activation's peak (activation_probe.mjs): sampled during it, or the high-water mark if
// that rose meanwhile.
const activated = activation?.status === 201 ? activation : null;
if (activation && !activated) missing.push(`program activation (HTTP ${activation.status})`);
const rssActivation = need('RSS during an activation', activated?.peak_kib);

const n = (v, digits = 0) =>
  v === null || v === undefined
    ? '—'
    : Number(v).toLocaleString('en-US', { maximumFractionDigits: digits,
                                           minimumFractionDigits: digits });
const ratio = (a, b) => (ok(a) && ok(b) ? a / b : null);
const mib = (kib) => (ok(kib) ? kib / 1024 : null);
const yes = (cond) => (cond === null ? '—' : cond ? 'met' : '**missed**');

// The server's side of a load run (scripts/bench's load()), read once; pooled runs put theirs in
// serverRuns when they are read.
function serverOf(name) {
  if (!serverRuns.has(name)) serverRuns.set(name, load(`${name}.server`));
  return serverRuns.get(name);
}
// The server's CPU per response over the whole load run (warm-up and drain included, as the
// server worked for them too), and the share of its runnable time spent waiting for the core.
function server(name, run) {
  if (!run || !(run.all_responses > 0)) return { cpu: null, waited: null };
  const sched = serverOf(name);
  if (!sched) return { cpu: null, waited: null };
  const busy = sched.on_core_s + sched.queued_s;
  return {
    cpu: (sched.on_core_s * 1e6) / run.all_responses,
    waited: busy > 0 ? sched.queued_s / busy : null,
  };
}
const sGet = server('ceiling_get', get);
const sPost = server('ceiling_post', post);
const sLookups = server('lookups', lookups);
const sGc = server('purchases_group_commit', gc);
const sOff = server('purchases_batching_off', off);
const sLatency = server('purchase_latency', latency);
const storageWaited = (m) =>
  m && m.on_core_share + m.queued_share > 0
    ? m.queued_share / (m.on_core_share + m.queued_share) : null;

const rows = [];
const row = (figure, value, cpu, waited, ratioText, target, met) =>
  rows.push(`| ${figure} | ${value} | ${cpu === null || cpu === undefined ? '—'
    : `${n(cpu, cpu < 10 ? 2 : cpu < 100 ? 1 : 0)} µs`}` +
            ` | ${waited === null || waited === undefined ? '—' : n(waited, 2)}` +
            ` | ${ratioText ?? ''} | ${target ?? ''} | ${met ?? ''} |`);

const members = n(meta.members);
const conns = meta.connections;
row(`HTTP ceiling: trivial Beast GET (closed loop, ${conns} connections)`,
    `${n(getRate)} /s`, sGet.cpu, sGet.waited, 'GET baseline');
const wrk = existsSync(join(dir, 'wrk_get.json')) ? load('wrk_get') : null;
if (wrk && ok(wrk.rate)) {
  row('HTTP ceiling GET measured by wrk instead (cross-check of the generator)',
      `${n(wrk.rate)} /s`, null, null, `${n(ratio(wrk.rate, getRate), 2)} × ours`);
}
row('HTTP ceiling: trivial Beast POST of a purchase\'s body', `${n(postRate)} /s`, sPost.cpu,
    sPost.waited, 'POST baseline');
row('Storage ceiling: a purchase\'s SQLite writes, 1 per commit (synchronous=FULL)',
    `${n(storageSingle)} /s`, storage?.single?.cpu_us_per_purchase,
    storageWaited(storage?.single), 'storage baseline');
row(`Storage ceiling: the same, ${storage?.batched?.per_commit ?? '?'} per commit`,
    `${n(storageBatched)} /s`, storage?.batched?.cpu_us_per_purchase,
    storageWaited(storage?.batched), `${n(ratio(storageBatched, storageSingle), 1)} × 1 per commit`);

const gcPost = ratio(gcRate, postRate);
const gcOff = ratio(gcRate, offRate);
const cpuRatio = (base, x) => (ok(base?.cpu) && ok(x?.cpu) ? base.cpu / x.cpu : null);
row('Engine: durable purchases, group commit (answered after the log is flushed)', `${n(gcRate)} /s`, sGc.cpu,
    sGc.waited,
    `${n(gcPost, 3)} × POST ceiling (CPU ${n(cpuRatio(sPost, sGc), 3)})` +
    `${roundRatios('purchases_group_commit', 'ceiling_post', 3)}; ${n(gcOff, 2)} × ` +
    `batching off (CPU ${n(cpuRatio(sOff, sGc), 2)})` +
    `${roundRatios('purchases_group_commit', 'purchases_batching_off', 2)}; ` +
    `${n(ratio(gcRate, storageBatched), 2)} × ` +
    'storage batched',
    '≥ 0.20 × POST ceiling; ≥ 5 × batching off',
    gcPost === null || gcOff === null ? '—' : `${yes(gcPost >= 0.2)}; ${yes(gcOff >= 5)}`);
row('Engine: durable purchases, batching off (--max-batch 1)', `${n(offRate)} /s`, sOff.cpu,
    sOff.waited, `${n(ratio(offRate, storageSingle), 2)} × storage 1 per commit`);
const lookGet = ratio(lookupRate, getRate);
row('Engine: member lookups (GET /v1/members/{id})', `${n(lookupRate)} /s`, sLookups.cpu,
    sLookups.waited, `${n(lookGet, 3)} × GET ceiling (CPU ${n(cpuRatio(sGet, sLookups), 3)})` +
    roundRatios('lookups', 'ceiling_get', 3),
    '≥ 0.50 × GET ceiling', yes(lookGet === null ? null : lookGet >= 0.5));
const achieved = latency ? latency.rate / latency.target_rate : null;
row(`Engine: purchase latency, open loop at ${n(latency?.target_rate)} /s ` +
    `(half the group-commit rate; achieved ${n(latency?.rate)} /s, ${n(latency?.unsent)} unsent)`,
    `p50 ${n(p50 / 1e3, 2)} ms, p99 ${n(p99 / 1e3, 2)} ms, p99.9 ${n(p999 / 1e3, 2)} ms`,
    sLatency.cpu, sLatency.waited, '', 'p99 ≤ 10 ms',
    yes(p99 === null ? null : p99 <= 10_000 && achieved >= 0.95));
const logicRatio = ratio(oursCpu, jsCpu);
row(`Rule evaluations: the sample program's conditions, ours (${ours?.cases ?? '?'} per pass)`,
    `${n(oursCpu)} /s`, ok(oursCpu) ? 1e6 / oursCpu : null, null,
    `${n(logicRatio, 1)} × json-logic-js (wall ${n(ratio(ours?.evaluations_per_s,
      js?.evaluations_per_s), 1)})`,
    '≥ 10 × json-logic-js', yes(logicRatio === null ? null : logicRatio >= 10));
row(`Rule evaluations: ${js?.engine ?? 'json-logic-js'}`, `${n(jsCpu)} /s`,
    ok(jsCpu) ? 1e6 / jsCpu : null, null, 'rule baseline');
row(`Memory: server RSS idle (${members} members)`, `${n(mib(rssIdle), 1)} MiB`);
row('Memory: server RSS after the load above', `${n(mib(rssLoaded), 1)} MiB`);
row(`Memory: server RSS with ${n(held)} keep-alive connections open`,
    `${n(mib(rssHeld), 1)} MiB (peak ${n(mib(rssPeak), 1)} MiB)`, null, null, '', '≤ 256 MiB',
    yes(rssHeld === null ? null : rssHeld / 1024 <= 256 && rssPeak / 1024 <= 256));
row(`Memory: server RSS peak while a new program version is activated (every member made due)`,
    `${n(mib(rssActivation), 1)} MiB (in ${n(activated?.seconds, 1)} s)`, null, null, '',
    '≤ 256 MiB', yes(rssActivation === null ? null : rssActivation / 1024 <= 256));
if (meta.seed_seconds) {
  row(`Seeding ${members} members and ${n(meta.seed_purchases ?? 0)} purchases for members drawn ` +
      'at random (`loyalty seed`)',
      `${n(meta.seed_seconds, 0)} s${meta.seed_cached ? ' (cached database; time when built)' : ''}`,
      null, null, `${n((meta.members + (meta.seed_purchases ?? 0)) / meta.seed_seconds)} writes/s`);
}

const out = [];
out.push(`Taken ${meta.date ?? '?'} on ${meta.machine ?? '?'}; ${meta.commit ?? ''}.`);
out.push(`Command: \`${meta.command ?? 'scripts/bench'}\`. Server on core ${meta.server_core}, ` +
         `load generator on core ${meta.client_core}; load average at the start ` +
         `${meta.load ?? '?'}. ${members} members; closed loops use ${conns} connections, ` +
         (meta.rounds > 1
           ? `${meta.duration} s measured in ${meta.rounds} rounds, each figure in slices that ` +
             'alternate with those of its baseline (ratios pooled over the rounds, each ' +
             `round's beside them); ${n(meta.warmup / meta.rounds, 1)} s of warm-up per slice.`
           : `${meta.duration} s measured after ${meta.warmup} s of warm-up.`));
out.push('');
out.push('| figure | value | server CPU per request | waited for a core | ratio (same run) | target | |');
out.push('| --- | ---: | ---: | ---: | --- | --- | --- |');
out.push(...rows);
// The run whose generator was busiest, and how busy the server was in it: a generator near its
// whole core beside a server that was not means the generator set that rate; both near theirs
// (a trivial server is as cheap per request as the generator) means neither had room.
const generatorRuns = [['the trivial GET', 'ceiling_get', get],
                       ['the trivial POST', 'ceiling_post', post], ['lookups', 'lookups', lookups],
                       ['purchases', 'purchases_group_commit', gc],
                       ['batching off', 'purchases_batching_off', off],
                       ['the open loop', 'purchase_latency', latency]]
  .filter(([, , run]) => run && Number.isFinite(run.generator_cpu));
if (generatorRuns.length) {
  const [label, name, run] = generatorRuns.reduce((a, b) =>
    (b[2].generator_cpu > a[2].generator_cpu ? b : a));
  const sched = serverOf(name);
  const serverShare = sched && sched.wall_s > 0 ? sched.on_core_s / sched.wall_s : null;
  out.push('');
  out.push(`Load generator CPU (share of its core): at most ${n(run.generator_cpu, 2)}, in ` +
           `${label}` + (serverShare === null ? '' : `, whose server was on its core ` +
           `${n(serverShare, 2)} of the run's time (warm-up and drain included)`) +
           '; a generator close to 1.00 beside a server well below it would mean the ' +
           'generator, not the server, set that rate.');
}
// The engine's load runs, each with its label under the table and its results' name.
const engineRuns = [['lookups', 'lookups', lookups], ['purchases', 'purchases_group_commit', gc],
                    ['batching off', 'purchases_batching_off', off],
                    ['open loop', 'purchase_latency', latency]];
// The engine's runs should find the file in the page cache (scripts/bench loads it first):
// reads from the disk mean the run measured the disk too.
const diskReads = engineRuns
  .map(([label, name, run]) => {
    const sched = run ? serverOf(name) : null;
    if (!sched || typeof sched.disk_read_bytes !== 'number' || !(run.all_responses > 0)) {
      return null;
    }
    return `${label} ${n(sched.disk_read_bytes / 1024 / run.all_responses, 2)}`;
  })
  .filter(Boolean);
if (diskReads.length) {
  out.push('');
  out.push(`Read from the disk by the server, KiB per request: ${diskReads.join(', ')} ` +
           '(the file is loaded into the page cache before each phase; more than zero means a ' +
           'run also measured the disk).');
}
// Where each engine run's CPU went, thread by thread (the .server.json of scripts/bench's
// load()): the I/O threads are "http-io" and the process's main thread, which runs the
// io_context too.
const threadNames = { 'ledger-writer': 'writer', 'log-syncer': 'log syncer',
                      'checkpointer': 'checkpointer', 'http-io': 'I/O', 'loyalty': 'I/O' };
const byThread = engineRuns
  .map(([label, name, run]) => {
    const sched = run ? serverOf(name) : null;
    const threads = sched?.threads_on_core_s;
    if (!threads || !(run.all_responses > 0)) return null;
    const us = {};
    for (const [thread, seconds] of Object.entries(threads)) {
      const role = threadNames[thread] ?? thread;
      us[role] = (us[role] ?? 0) + seconds * 1e6 / run.all_responses;
    }
    const parts = Object.entries(us).filter(([, v]) => v >= 0.05)
      .sort((a, b) => b[1] - a[1]).map(([role, v]) => `${role} ${n(v, 1)}`);
    return `${label}: ${parts.join(', ')}`;
  })
  .filter(Boolean);
if (byThread.length) {
  out.push('');
  out.push(`Server CPU per request by thread, µs: ${byThread.join('; ')}.`);
}
out.push('');
out.push('"Server CPU per request" is the time the server\'s threads spent on a core per response ' +
         '(the storage ceiling\'s and the rule benchmarks\' own thread per operation); "waited ' +
         'for a core" is the share of the time they were runnable but queued behind other work ' +
         'on the machine. "CPU" ratios divide CPU per request instead of rates: they hold on a ' +
         'busy machine, where the rates do not.');
if (missing.length) {
  out.push('');
  out.push(`**Missing figures:** ${missing.join('; ')}`);
}
console.log(out.join('\n'));
process.exit(missing.length ? 1 : 0);
