// Activates a program over HTTP on a running server and samples the server's resident size
// while the request runs (scripts/bench, phase 3): activation makes every member due in one
// savepoint, and the memory that holds meanwhile counts against the memory target.
//
//   node tests/bench/activation_probe.mjs PORT KEY PROGRAM_FILE SERVER_PID
// prints {"status":201,"seconds":…,"peak_kib":…,"before_kib":…,"hwm_before_kib":…,"hwm_kib":…}
import { readFileSync } from 'node:fs';

const [port, key, file, pid] = process.argv.slice(2);
// A size in KiB from the server's /proc status: VmRSS now, VmHWM the peak so far.
const statusKib = (field) => {
  const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(
    readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
};
const rssKib = () => statusKib('VmRSS');
const hwmKib = () => statusKib('VmHWM');

const before = rssKib();
const hwmBefore = hwmKib();
let peak = before;
const sampler = setInterval(() => { peak = Math.max(peak, rssKib()); }, 20);
const started = process.hrtime.bigint();
const res = await fetch(`http://127.0.0.1:${port}/v1/program/versions`, {
  method: 'POST',
  headers: { authorization: `Bearer ${key}`, 'content-type': 'application/yaml' },
  body: readFileSync(file, 'utf8'),
  signal: AbortSignal.timeout(300_000),
});
await res.text();
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
clearInterval(sampler);
// The high-water mark catches a peak between two samples, but it also holds every peak
// before this request: it counts only when it rose during it.
const hwm = hwmKib();
peak = Math.max(peak, rssKib(), hwm > hwmBefore ? hwm : 0);
console.log(JSON.stringify({ status: res.status, seconds, peak_kib: peak, before_kib: before,
                             hwm_before_kib: hwmBefore, hwm_kib: hwm }));
