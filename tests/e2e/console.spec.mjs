// End-to-end tests of the web console (web/) in headless Chromium, against a real
// `loyalty serve` on 127.0.0.1: sign-in and roles, member lookup, balance and history, an
// adjustment with a reason, a redemption cancelled, a program error at its line, a simulated
// purchase, activation by an admin, the content security policy and path traversal.
//
//   LOYALTY_BINARY=build/dev/loyalty node tests/e2e/console.spec.mjs
//
// Environment: LOYALTY_BINARY (the loyalty executable; default build/dev/loyalty),
// LOYALTY_SCREENSHOTS (where screenshots go; default build/e2e-screenshots),
// LOYALTY_NODE_MODULES (where playwright-core is; default tests/node_modules),
// LOYALTY_CHROMIUM (default /usr/bin/chromium, Debian's package).
//
// The console is served from a temporary copy of web/ that also holds a hidden file and a
// symlink out of the folder, with a secret file beside the folder, so escaping is really tried.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const binary = path.resolve(process.env.LOYALTY_BINARY || path.join(root, 'build', 'dev', 'loyalty'));
const screenshots = path.resolve(process.env.LOYALTY_SCREENSHOTS || path.join(root, 'build', 'e2e-screenshots'));
const nodeModules = path.resolve(process.env.LOYALTY_NODE_MODULES || path.join(root, 'tests', 'node_modules'));
const chromiumPath = process.env.LOYALTY_CHROMIUM || '/usr/bin/chromium';

const require = createRequire(import.meta.url);
const { chromium } = require(require.resolve('playwright-core', { paths: [nodeModules, here] }));

const SECRET = 'e2e-secret-outside-the-web-root';
const MEMBER = 'm-e2e';
const STEP_MS = 10_000; // any single wait in the browser
const TEST_MS = 90_000; // any one test
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

let tmp;
let server;
let base;
let browser;
const keys = {};
let seeded; // the member as the API shows it after seeding

// ---------------------------------------------------------------------------------------------
// The server.

function run(args) {
  return execFileSync(binary, args, { encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'pipe'] });
}

function createKey(role, name, extra = []) {
  const out = run(['keys', 'create', '--db', path.join(tmp, 'loyalty.db'), '--role', role, '--name', name, ...extra]);
  const key = out.trim().split('\n')[0];
  assert.match(key, /^lk_[0-9a-f]+$/, `keys create printed ${out}`);
  return key;
}

function keyId(name) {
  const list = run(['keys', 'list', '--db', path.join(tmp, 'loyalty.db')]);
  const line = list.split('\n').find((l) => l.split('\t')[3] === name);
  assert.ok(line, `no key named ${name} in\n${list}`);
  return line.split('\t')[0];
}

function startServer(webRoot) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      binary,
      ['serve', '--db', path.join(tmp, 'loyalty.db'), '--program', path.join(root, 'config', 'program.yaml'),
        '--web', webRoot, '--listen', '127.0.0.1:0', '--jobs-interval', '0'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the server did not say where it listens within 15 s:\n${output}`));
    }, 15_000);
    const onData = (chunk) => {
      output += chunk;
      const m = /serving .* on http:\/\/([0-9.]+):(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.stdout.resume(); // keep draining the log
        resolve({ child, url: `http://${m[1]}:${m[2]}` });
      }
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', onData);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code ?? signal}):\n${output}`));
    });
  });
}

async function stopServer() {
  if (!server || server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGTERM');
  const timer = setTimeout(() => server.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

// A JSON request from node, for seeding.
async function call(method, route, key, body) {
  const res = await fetch(base + route, {
    method,
    headers: { Authorization: `Bearer ${key}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(STEP_MS),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${route}: ${res.status} ${text}`);
  return JSON.parse(text);
}

// A request with its target sent exactly as written (no normalisation of "..", "%2e", "\").
function rawGet(target) {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, method: 'GET', path: target, timeout: STEP_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${target} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

// A time shortly ahead that is not a Tuesday in New York (the sample program doubles base
// points on Tuesdays), as RFC 3339.
function notTuesday() {
  const weekday = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', weekday: 'long' });
  let t = Date.now() + 60_000;
  while (weekday.format(new Date(t)) === 'Tuesday') t += 6 * 3_600_000;
  return new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');
}

// ---------------------------------------------------------------------------------------------
// The browser.

// A page whose console errors, uncaught exceptions and failed static files are collected.
// The API's own error answers (4xx from /v1/, which the console asks for on purpose: role probes,
// refused writes) show in Chromium's console as "Failed to load resource"; those are expected.
async function openPage({ viewport = { width: 1280, height: 900 }, mobile = false } = {}) {
  // The agent's browser in another zone than the program's: times are still shown in the program's.
  const context = await browser.newContext({ viewport, isMobile: mobile, hasTouch: mobile, deviceScaleFactor: 1, locale: 'en-US', timezoneId: 'Asia/Tokyo' });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.setDefaultNavigationTimeout(STEP_MS);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error' && msg.type() !== 'warning') return;
    const text = msg.text();
    const where = msg.location()?.url || '';
    const apiAnswer =
      /^Failed to load resource: the server responded with a status of 4\d\d/.test(text) &&
      where.startsWith(`${base}/v1/`);
    if (msg.type() === 'error' && !apiAnswer) problems.push(`console ${msg.type()}: ${text} (${where})`);
    if (msg.type() === 'warning' && /Content Security Policy|Refused/i.test(text)) problems.push(`console warning: ${text}`);
  });
  page.on('response', (res) => {
    const url = new URL(res.url());
    if (!url.pathname.startsWith('/v1/') && res.status() >= 400) problems.push(`${res.status()} for ${url.pathname}`);
  });
  page.on('requestfailed', (req) => {
    const url = new URL(req.url());
    if (url.origin !== base) problems.push(`a request left the server: ${req.url()}`);
    else problems.push(`request failed: ${url.pathname} ${req.failure()?.errorText}`);
  });
  page.on('request', (req) => {
    if (!req.url().startsWith(base) && !req.url().startsWith('data:')) problems.push(`external request: ${req.url()}`);
  });
  return { context, page, problems };
}

async function signIn(page, key, role) {
  const res = await page.goto(`${base}/`);
  assert.equal(res.status(), 200);
  assert.equal(res.headers()['content-security-policy'], CSP);
  await page.locator('#api-key').fill(key);
  await page.locator('#api-key').press('Enter');
  await page.locator('#who-role').filter({ hasText: role }).waitFor();
  assert.equal(await page.locator('#who-role').textContent(), role);
}

async function lookUp(page, id) {
  await page.locator('#lookup-id').fill(id);
  await page.locator('#lookup-id').press('Enter');
  await page.locator('#member').waitFor({ state: 'visible' });
  await page.locator('#m-profile').getByText(id, { exact: true }).waitFor();
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true, timeout: STEP_MS });
}

async function finish(ctx) {
  const problems = [...ctx.problems];
  await ctx.context.close();
  assert.deepEqual(problems, [], 'the page logged errors or fetched what it should not');
}

// ---------------------------------------------------------------------------------------------

before(async () => {
  assert.ok(fs.existsSync(binary), `no loyalty binary at ${binary} (set LOYALTY_BINARY)`);
  assert.ok(fs.existsSync(chromiumPath), `no Chromium at ${chromiumPath}: apt-get install chromium`);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'loyalty-e2e-'));
  fs.mkdirSync(screenshots, { recursive: true });

  // The web root: a copy of web/, plus what must never be served from it.
  const webRoot = path.join(tmp, 'web');
  fs.cpSync(path.join(root, 'web'), webRoot, { recursive: true });
  fs.writeFileSync(path.join(tmp, 'secret.json'), JSON.stringify({ secret: SECRET }));
  fs.writeFileSync(path.join(tmp, 'secret.txt'), SECRET);
  fs.writeFileSync(path.join(webRoot, '.hidden.json'), JSON.stringify({ secret: SECRET }));
  fs.writeFileSync(path.join(webRoot, 'notes.md'), SECRET);
  fs.symlinkSync(path.join(tmp, 'secret.json'), path.join(webRoot, 'leak.json'));
  fs.symlinkSync(tmp, path.join(webRoot, 'up'));

  keys.admin = createKey('admin', 'e2e admin');
  keys.support = createKey('support', 'e2e support');
  keys.pos = createKey('pos', 'e2e till', ['--store', 's-12']);
  keys.victim = createKey('support', 'e2e revoked');

  const started = await startServer(webRoot);
  server = started.child;
  base = started.url;
  server.removeAllListeners('exit');
  process.on('exit', () => server.kill('SIGKILL'));

  // A member with a purchase (pending), a redeemed reward (a voucher) and enough history for
  // two pages of 20.
  await call('POST', '/v1/members', keys.admin, { member_id: MEMBER, name: 'Ada Lovelace', email: 'ada@example.com', birthday: '1990-06-15' });
  await call('POST', '/v1/transactions', keys.admin, {
    transaction_id: 't-e2e-1', member_id: MEMBER, store_id: 's-12', channel: 'store',
    occurred_at: new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z'), currency: 'USD',
    lines: [
      { line_id: '1', sku: 'LATTE-L', category: 'coffee', quantity: 2, unit_price: 525 },
      { line_id: '2', sku: 'CROISSANT', category: 'bakery', quantity: 1, unit_price: 350 },
    ],
  });
  await call('POST', `/v1/members/${MEMBER}/redemptions`, keys.admin, { redemption_id: 'r-e2e-1', reward_id: 'espresso_shot' });
  for (let i = 1; i <= 21; i++) {
    await call('POST', `/v1/members/${MEMBER}/adjustments`, keys.support, { adjustment_id: `adj-seed-${i}`, points: 1, reason: `seed ${i}` });
  }

  seeded = await call('GET', `/v1/members/${MEMBER}`, keys.support);

  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, timeout: 30_000 });
});

after(async () => {
  if (browser) await browser.close().catch(() => {});
  await stopServer();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------

test('static files: the console with its security headers, known types only', { timeout: TEST_MS }, async () => {
  for (const [target, type] of [
    ['/', 'text/html; charset=utf-8'],
    ['/index.html', 'text/html; charset=utf-8'],
    ['/app.js', 'text/javascript; charset=utf-8'],
    ['/app.css', 'text/css; charset=utf-8'],
    ['/favicon.svg', 'image/svg+xml'],
  ]) {
    const res = await rawGet(target);
    assert.equal(res.status, 200, target);
    assert.equal(res.headers['content-type'], type, target);
    assert.equal(res.headers['content-security-policy'], CSP, target);
    assert.equal(res.headers['x-content-type-options'], 'nosniff', target);
  }
  // No inline script or style anywhere: the policy would block it.
  const html = (await rawGet('/')).body;
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, 'an inline <script>');
  assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i, 'inline style or event handler');
  assert.doesNotMatch(html + (await rawGet('/app.css')).body, /https?:\/\/(?!www\.w3\.org)/, 'an external asset');
  assert.doesNotMatch((await rawGet('/app.js')).body, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
});

test('static files cannot escape the web root', { timeout: TEST_MS }, async () => {
  const attempts = [
    '/../secret.json',
    '/../secret.txt',
    '/./../secret.json',
    '/x/../../secret.json',
    '/%2e%2e/secret.json',
    '/%2E%2E/secret.txt',
    '/.%2e/secret.json',
    '/..%2fsecret.json',
    '/..%2Fsecret.txt',
    '/%2e%2e%2fsecret.json',
    '/..%5csecret.json',
    '/..\\secret.json',
    '/%2e%2e%5csecret.txt',
    '/..%252fsecret.json',
    '//secret.json',
    '/%2f..%2fsecret.json',
    `/%2f${encodeURIComponent(path.join(tmp, 'secret.json')).replace(/^%2F/, '')}`,
    '/leak.json', // a symlink out of the root
    '/up/secret.json', // a symlinked folder out of the root
    '/up/secret.txt',
    '/.hidden.json',
    '/%2ehidden.json',
    '/notes.md', // an unknown extension
    '/index.html%00.json',
    '/secret.json%00',
    `http://127.0.0.1/../secret.json`,
  ];
  for (const target of attempts) {
    const res = await rawGet(target);
    assert.ok(res.status === 404 || res.status === 400, `${target}: ${res.status}`);
    assert.ok(!res.body.includes(SECRET), `${target} leaked the file`);
    assert.match(res.headers['content-type'] || '', /^application\/problem\+json/, target);
  }
  // The API is not shadowed by files, and unknown paths are the API's 404.
  assert.equal((await rawGet('/healthz')).status, 200);
  assert.equal((await rawGet('/no-such-file.js')).status, 404);
});

test('sign-in refuses an unknown key and shows what a pos key may do', { timeout: TEST_MS }, async () => {
  const ctx = await openPage();
  const { page } = ctx;
  await page.goto(`${base}/`);
  await page.locator('#api-key').waitFor();
  assert.ok(await page.locator('#api-key').evaluate((e) => e === document.activeElement), 'the key field has focus');
  await page.locator('#api-key').fill('lk_0000000000000000000000000000000000000000deadbeef');
  await page.keyboard.press('Enter');
  await page.locator('#signin-status').getByText('does not know this key').waitFor();
  assert.ok(await page.locator('#members-view').isHidden());
  await shot(page, 'signin-refused');

  await signIn(page, keys.pos, 'pos');
  await page.locator('#role-panel summary').click();
  // The server names the key: its name, id and store.
  await page.locator('#key-facts').getByText('e2e till', { exact: true }).waitFor();
  assert.equal(await page.locator('#key-facts code').first().textContent(), keyId('e2e till'));
  assert.equal(await page.locator('#key-facts code').nth(1).textContent(), 's-12');
  for (const allowed of ['lookup', 'program', 'check', 'simulate', 'pos']) {
    assert.equal(await page.locator(`#role-list li[data-capability="${allowed}"]`).getAttribute('class'), 'allowed', allowed);
  }
  for (const denied of ['activity', 'vouchers', 'tiers', 'adjust', 'cancel', 'profile', 'audit', 'versions', 'activate']) {
    assert.equal(await page.locator(`#role-list li[data-capability="${denied}"]`).getAttribute('class'), 'denied', denied);
  }
  await lookUp(page, MEMBER);
  assert.ok(await page.locator('#adjust-section').isHidden(), 'no adjustments for pos');
  assert.ok(await page.locator('#cancel-section').isHidden(), 'no cancellations for pos');
  assert.ok(await page.locator('#profile-section').isHidden(), 'no profile corrections for pos');
  assert.ok(await page.locator('#audit-section').isHidden(), 'no audit trail for pos');
  await page.getByText('may not read the activity history').waitFor();
  assert.equal(await page.locator('#m-vouchers button').count(), 0, 'no cancel buttons for pos');
  assert.ok(await page.locator('#past-vouchers').isHidden(), 'no voucher history for pos');
  assert.ok(await page.locator('#tier-history').isHidden(), 'no tier history for pos');
  await shot(page, 'pos-member');
  await page.locator('#tab-program').click();
  await page.locator('#active-facts dd').getByText('Bean & Leaf Rewards', { exact: true }).waitFor();
  assert.ok(await page.locator('#activate-submit').isHidden(), 'no activation for pos');
  assert.ok(await page.locator('#versions-section').isHidden(), 'no activations list for pos');
  await finish(ctx);
});

test('support: look up a member, balance, tier, history with explanations, pages', { timeout: TEST_MS }, async () => {
  const ctx = await openPage();
  const { page } = ctx;
  await signIn(page, keys.support, 'support');
  await page.locator('#role-panel summary').click();
  assert.equal(await page.locator('#role-list li[data-capability="adjust"]').getAttribute('class'), 'allowed');
  assert.equal(await page.locator('#role-list li[data-capability="activate"]').getAttribute('class'), 'denied');
  await page.locator('#role-panel summary').click();

  // An unknown member: the server's 404, shown.
  await page.locator('#lookup-id').fill('m-nobody');
  await page.keyboard.press('Enter');
  await page.locator('#lookup-status .answer-head').filter({ hasText: '404 Not Found' }).waitFor();
  await page.locator('#lookup-status .problem-detail').filter({ hasText: 'no member m-nobody' }).waitFor();
  assert.ok(await page.locator('#member').isHidden());

  await lookUp(page, MEMBER);
  assert.equal(await page.locator('#m-title').textContent(), 'Ada Lovelace');
  // 25 for joining - 25 for the espresso shot + 21 adjustments; the purchase's points wait
  // 14 days (29, or more on a double Tuesday: the API's own figures are the reference).
  assert.equal(await page.locator('#m-available').textContent(), '21');
  assert.equal(seeded.balance.available, 21);
  assert.ok(seeded.balance.pending >= 29);
  assert.equal(await page.locator('#m-pending').textContent(), String(seeded.balance.pending));
  if (seeded.next_expiry) await page.locator('#m-expiry').getByText('Next to expire').waitFor();
  // When the pending points can be spent, in the program's time zone, named.
  assert.equal(seeded.next_available.points, seeded.balance.pending);
  await page.locator('#m-available-from').getByText(`${seeded.balance.pending} leaves available from`).waitFor();
  const shown = page.locator('#m-available-from time');
  assert.equal(await shown.getAttribute('datetime'), seeded.next_available.at);
  assert.match(await shown.getAttribute('title'), /America\/New_York, the program's time zone/);
  const zoneName = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', timeZoneName: 'short' })
    .formatToParts(new Date(seeded.next_available.at)).find((p) => p.type === 'timeZoneName').value;
  assert.ok((await shown.textContent()).endsWith(` ${zoneName}`), await shown.textContent());
  assert.equal(await page.locator('#m-tier').textContent(), 'Green');
  const progress = await page.locator('#m-progress').evaluate((p) => [p.value, p.max]);
  assert.deepEqual(progress, [seeded.tier.metric, 500]);
  await page.locator('#m-tier-next').getByText(`${seeded.tier.next.needed} more to reach Gold`, { exact: false }).waitFor();
  await page.locator('#m-tier-ends').getByText('does not end').waitFor();
  await page.locator('#m-vouchers').getByText('espresso_shot').waitFor();

  // History: newest first, 20 a page, each with its explanation.
  await page.locator('#activity-rows tr').nth(19).waitFor();
  assert.equal(await page.locator('#activity-rows tr').count(), 20);
  assert.equal(await page.locator('#activity-rows tr').first().locator('.explanation').textContent(), 'adjustment: seed 21');
  // Each entry names the key that asked for it, by name and id: the support key made the
  // adjustments.
  assert.equal(await page.locator('#activity-rows tr').first().locator('.actor code').textContent(), keyId('e2e support'));
  assert.equal(await page.locator('#activity-rows tr').first().locator('.actor .actor-name').textContent(), 'e2e support');
  assert.ok(await page.locator('#activity-newer').isDisabled());
  await shot(page, 'member');
  await page.locator('#activity-older').click();
  await page.locator('#activity-page').getByText('Page 2').waitFor();
  await page.locator('#activity-rows').getByText('25 leaves: 25 leaves for joining').waitFor();
  await page.locator('#activity-rows').getByText('2 leaves per $1').waitFor();
  await page.locator('#activity-rows').getByText('Espresso shot: 25 leaves').waitFor();
  assert.equal(await page.locator('#activity-rows tr').count(), 5);
  assert.ok(await page.locator('#activity-older').isDisabled());
  await page.locator('#activity-newer').click();
  await page.locator('#activity-page').getByText('Page 1').waitFor();

  // The session survives a reload (session storage), and the address names the member.
  assert.match(page.url(), /#members\/m-e2e$/);
  await page.reload();
  await page.locator('#who-role').filter({ hasText: 'support' }).waitFor();
  await page.locator('#m-title').filter({ hasText: 'Ada Lovelace' }).waitFor();

  // Signing out forgets the key.
  await page.locator('#sign-out').click();
  await page.locator('#signin-view').waitFor({ state: 'visible' });
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  assert.ok(await page.locator('#member').isHidden());
  await finish(ctx);
});

test('support: an adjustment needs a reason; the server answers every try', { timeout: TEST_MS }, async () => {
  const ctx = await openPage();
  const { page } = ctx;
  const adjustments = [];
  page.on('request', (req) => {
    if (req.url().endsWith('/adjustments')) adjustments.push(req.postDataJSON());
  });
  await signIn(page, keys.support, 'support');
  await lookUp(page, MEMBER);

  // No reason: refused before anything is sent.
  await page.locator('#adjust-points').fill('50');
  await page.locator('#adjust-submit').click();
  await page.locator('#adjust-reason-error').getByText('A reason is required').waitFor();
  assert.equal(await page.locator('#adjust-reason').getAttribute('aria-invalid'), 'true');
  assert.ok(await page.locator('#adjust-reason').evaluate((e) => e === document.activeElement), 'focus moves to the reason');
  assert.equal(adjustments.length, 0);
  await shot(page, 'adjust-missing-reason');

  // With a reason: the server's answer, and the member as it is now.
  await page.locator('#adjust-reason').fill('goodwill e2e');
  await page.locator('#adjust-note').fill('spilled drink');
  await page.locator('#adjust-reason').press('Enter');
  await page.locator('#adjust-answer .answer.ok').getByText('Adjusted +50 leaves').waitFor();
  await page.locator('#adjust-answer .movements').getByText('adjustment: goodwill e2e').waitFor();
  await page.locator('#adjust-answer .answer-head').filter({ hasText: '201 Created' }).waitFor();
  assert.equal(adjustments.length, 1);
  assert.deepEqual(Object.keys(adjustments[0]).sort(), ['adjustment_id', 'note', 'points', 'reason']);
  assert.equal(adjustments[0].points, 50);
  assert.equal(adjustments[0].reason, 'goodwill e2e');
  await page.locator('#m-available').filter({ hasText: /^71$/ }).waitFor();
  await page.locator('#activity-rows tr').first().locator('.explanation').filter({ hasText: 'adjustment: goodwill e2e' }).waitFor();
  assert.equal(await page.locator('#adjust-reason').inputValue(), '', 'the form is cleared');
  assert.notEqual(await page.locator('#adjust-id').inputValue(), adjustments[0].adjustment_id, 'a new id for the next one');
  await shot(page, 'adjust-done');

  // Refused by the server: its problem, shown, naming what went wrong.
  await page.locator('#adjust-points').fill('-100000');
  await page.locator('#adjust-reason').fill('too much');
  await page.locator('#adjust-submit').click();
  const problem = page.locator('#adjust-answer .answer.problem');
  await problem.locator('.answer-head').filter({ hasText: '422 Unprocessable Entity · Not enough points' }).waitFor();
  await problem.locator('.meta code').getByText('insufficient-points', { exact: true }).waitFor();
  await page.locator('#m-available').filter({ hasText: /^71$/ }).waitFor();

  // Not a whole number: the server's validation error, on the field it names.
  await page.locator('#adjust-points').fill('1.5');
  await page.locator('#adjust-submit').click();
  await page.locator('#adjust-answer .answer.problem .meta code').getByText('validation-failed', { exact: true }).waitFor();
  assert.equal(await page.locator('#adjust-points').getAttribute('aria-invalid'), 'true');
  await shot(page, 'adjust-refused');
  await finish(ctx);
});

test('support: cancel a redemption from its voucher, with the keyboard', { timeout: TEST_MS }, async () => {
  const ctx = await openPage();
  const { page } = ctx;
  await signIn(page, keys.support, 'support');
  await lookUp(page, MEMBER);
  const before = Number(await page.locator('#m-available').textContent());
  await page.locator('#m-vouchers button', { hasText: 'Cancel' }).click();
  assert.equal(await page.locator('#cancel-id').inputValue(), 'r-e2e-1');
  assert.ok(await page.locator('#cancel-reason').evaluate((e) => e === document.activeElement));
  // No reason: refused in the page, nothing sent.
  await page.keyboard.press('Enter');
  await page.locator('#cancel-reason-error').getByText('A reason is required').waitFor();
  await page.keyboard.type('spilled');
  await page.keyboard.press('Enter');
  await page.locator('#cancel-answer .answer.ok').getByText(/^Cancelled r-e2e-1: 25 leaves restored for /).waitFor();
  await page.locator('#cancel-answer .movements li').first().getByText('cancelled redemption r-e2e-1').waitFor();
  await page.locator('#m-available').filter({ hasText: String(before + 25) }).waitFor();
  await page.locator('#m-vouchers-empty').waitFor({ state: 'visible' });
  // The voucher is not gone: support sees it cancelled with its redemption.
  await page.locator('#past-vouchers li[data-status="cancelled"]').getByText('from r-e2e-1').waitFor();

  // Again: the stored answer is replayed, and the console says so.
  await page.locator('#cancel-id').fill('r-e2e-1');
  await page.locator('#cancel-reason').fill('spilled');
  await page.locator('#cancel-id').press('Enter');
  await page.locator('#cancel-answer .answer-head').getByText('replayed').waitFor();
  // An unknown redemption: the server's 404.
  await page.locator('#cancel-id').fill('r-nope');
  await page.locator('#cancel-reason').fill('spilled');
  await page.locator('#cancel-id').press('Enter');
  await page.locator('#cancel-answer .answer.problem .answer-head').filter({ hasText: '404 Not Found' }).waitFor();
  // Another member's redemption, typed on this member's page: not found, and still usable.
  const other = 'm-e2e-other';
  await call('POST', '/v1/members', keys.admin, { member_id: other, name: 'Other Member' });
  await call('POST', `/v1/members/${other}/adjustments`, keys.support, { adjustment_id: 'adj-o-1', points: 100, reason: 'seed' });
  await call('POST', `/v1/members/${other}/redemptions`, keys.admin, { redemption_id: 'r-o-1', reward_id: 'espresso_shot' });
  await page.locator('#cancel-id').fill('r-o-1');
  await page.locator('#cancel-reason').fill('wrong page');
  await page.locator('#cancel-id').press('Enter');
  await page.locator('#cancel-answer .answer.problem').getByText(`no redemption r-o-1 of member ${MEMBER}`).waitFor();
  const theirs = await call('GET', `/v1/members/${other}`, keys.support);
  assert.equal(theirs.vouchers.length, 1);
  await finish(ctx);
});

test('support: a write answered after another member was opened is shown as the first member\'s', { timeout: TEST_MS }, async () => {
  const ctx = await openPage();
  const { page } = ctx;
  await signIn(page, keys.support, 'support');
  const first = 'm-e2e-first';
  const second = 'm-e2e-second';
  await call('POST', '/v1/members', keys.admin, { member_id: first, name: 'First Member' });
  await call('POST', '/v1/members', keys.admin, { member_id: second, name: 'Second Member' });
  await lookUp(page, first);
  // The adjustment's answer is held until the agent has opened the second member.
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await page.route('**/v1/members/*/adjustments', async (route) => {
    await held;
    await route.continue();
  });
  await page.locator('#adjust-points').fill('7');
  await page.locator('#adjust-reason').fill('meant for the first');
  await page.locator('#adjust-submit').click();
  // While another member is looked up, the first one's panel is not there to act on.
  await page.locator('#lookup-id').fill(second);
  await page.locator('#lookup-id').press('Enter');
  await page.locator('#m-profile').getByText(second, { exact: true }).waitFor();
  await page.locator('#adjust-points').fill('3');
  release();
  await page.locator('#adjust-answer .answer.ok').getByText(`for member ${first}, no longer shown`).waitFor();
  // The second member's form is left as the agent was filling it, and their balance as it was.
  assert.equal(await page.locator('#adjust-points').inputValue(), '3');
  const secondNow = await call('GET', `/v1/members/${second}`, keys.support);
  assert.equal(await page.locator('#m-available').textContent(), String(secondNow.balance.available));
  await page.unroute('**/v1/members/*/adjustments');
  await finish(ctx);
});

test('support: a used voucher says when, on which purchase and where, an unused one stays usable', { timeout: TEST_MS }, async () => {
  // A member of its own: two espresso shots, one used on t-e2e-use at a till whose key is bound
  // to store s-12 (recorded there without being named).
  const member = 'm-e2e-vouchers';
  await call('POST', '/v1/members', keys.admin, { member_id: member, name: 'Grace Hopper' });
  await call('POST', `/v1/members/${member}/adjustments`, keys.support, { adjustment_id: 'adj-v-1', points: 100, reason: 'seed' });
  const first = await call('POST', `/v1/members/${member}/redemptions`, keys.admin, { redemption_id: 'r-v-1', reward_id: 'espresso_shot' });
  const second = await call('POST', `/v1/members/${member}/redemptions`, keys.admin, { redemption_id: 'r-v-2', reward_id: 'espresso_shot' });
  const used = first.vouchers[0].id;
  await call('POST', `/v1/vouchers/${encodeURIComponent(used)}/use`, keys.pos, { transaction_id: 't-e2e-use' });
  const history = await call('GET', `/v1/members/${member}/vouchers`, keys.support);
  const usedAt = history.vouchers.find((v) => v.id === used).used_at;

  const ctx = await openPage();
  const { page } = ctx;
  await signIn(page, keys.support, 'support');
  await lookUp(page, member);
  const row = page.locator(`#past-vouchers li[data-voucher="${used}"]`);
  await row.waitFor();
  assert.equal(await row.getAttribute('data-status'), 'used');
  await row.locator('code').getByText('t-e2e-use', { exact: true }).waitFor();
  assert.match(await row.textContent(), /on t-e2e-use at store s-12/);
  assert.equal(await row.locator('time').getAttribute('datetime'), usedAt);
  assert.equal(await page.locator('#past-vouchers li').count(), 1);
  // The other is still usable, with its cancel button, and not in the past list.
  await page.locator('#m-vouchers').getByText(second.vouchers[0].id, { exact: true }).waitFor();
  assert.equal(await page.locator('#m-vouchers li').count(), 1);
  assert.ok(await page.locator('#past-vouchers-empty').isHidden());
  await shot(page, 'vouchers-past');
  await finish(ctx);
});

test('support: the tier changes, each with the metric that decided it', { timeout: TEST_MS }, async () => {
  // $250 of coffee: the purchase's leaves (pending) take the member from Green to Gold.
  const member = 'm-e2e-tiers';
  await call('POST', '/v1/members', keys.admin, { member_id: member, name: 'Katherine Johnson' });
  await call('POST', '/v1/transactions', keys.admin, {
    transaction_id: 't-e2e-gold', member_id: member, store_id: 's-12', channel: 'store',
    occurred_at: new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z'), currency: 'USD',
    lines: [{ line_id: '1', sku: 'BEANS', category: 'coffee', quantity: 10, unit_price: 2500 }],
  });
  const history = await call('GET', `/v1/members/${member}/tier-history`, keys.support);
  assert.equal(history.changes.length, 2);
  assert.equal(history.changes[0].direction, 'up');
  assert.ok(history.changes[0].metric >= 500, 'Gold needs 500');

  const ctx = await openPage();
  const { page } = ctx;
  await signIn(page, keys.support, 'support');
  await lookUp(page, member);
  await page.locator('#m-tier').getByText('Gold', { exact: true }).waitFor();
  const rows = page.locator('#tier-history li');
  await rows.nth(1).waitFor();
  assert.equal(await rows.count(), 2);
  assert.equal(await rows.nth(0).getAttribute('data-direction'), 'up');
  await rows.nth(0).getByText('Green → Gold').waitFor();
  // 550 or more, 1,000 or more on a double Tuesday: formatted as the page formats numbers.
  const metric = await page.evaluate((n) => new Intl.NumberFormat().format(n), history.changes[0].metric);
  await rows.nth(0).getByText(`tier metric ${metric} · by purchase`).waitFor();
  assert.equal(await rows.nth(0).locator('time').getAttribute('datetime'), history.changes[0].at);
  await rows.nth(1).getByText('Joined as Green').waitFor();
  await shot(page, 'tier-history');
  await finish(ctx);
});

test('support: correct a profile, sending only what changed, with a reason', { timeout: TEST_MS }, async () => {
  const member = 'm-e2e-profile';
  await call('POST', '/v1/members', keys.admin, { member_id: member, name: 'Ada', email: 'ada@example.com' });
  const ctx = await openPage();
  const { page } = ctx;
  await signIn(page, keys.support, 'support');
  await lookUp(page, member);
  // The form starts from the member as shown.
  assert.equal(await page.locator('#profile-name').inputValue(), 'Ada');
  assert.equal(await page.locator('#profile-email').inputValue(), 'ada@example.com');
  assert.equal(await page.locator('#profile-birthday').inputValue(), '');

  // Nothing changed, no reason: refused in the page, nothing sent.
  await page.locator('#profile-submit').click();
  await page.locator('#profile-name-error').getByText('Change the name, the email or the birthday first.').waitFor();
  await page.locator('#profile-name').fill('Ada King');
  await page.locator('#profile-submit').click();
  await page.locator('#profile-reason-error').getByText('A reason is required').waitFor();
  assert.ok(await page.locator('#profile-reason').evaluate((e) => e === document.activeElement));

  // An address with no dotted domain: the server refuses it, the page marks the field, nothing
  // changes.
  await page.locator('#profile-email').fill('ada@example');
  await page.locator('#profile-reason').fill('typo');
  await page.locator('#profile-submit').click();
  await page.locator('#profile-answer').getByText('expected an e-mail address').waitFor();
  await page.locator('#profile-email[aria-invalid="true"]').waitFor();
  assert.equal((await call('GET', `/v1/members/${member}`, keys.support)).name, 'Ada');

  // The name changed, the email emptied (cleared), a birthday given.
  await page.locator('#profile-email').fill('');
  await page.locator('#profile-birthday').fill('1990-06-15');
  await page.locator('#profile-reason').fill('member called');
  await page.locator('#profile-reason').press('Enter');
  await page.locator('#profile-answer .answer.ok').getByText('Profile corrected (name, email, birthday)').waitFor();
  await page.locator('#m-title').filter({ hasText: 'Ada King' }).waitFor();
  await page.locator('#m-profile').getByText('1990-06-15', { exact: true }).waitFor();
  assert.equal(await page.locator('#m-profile').getByText('ada@example.com').count(), 0);
  // The form now shows the corrected profile, with a new change id.
  assert.equal(await page.locator('#profile-name').inputValue(), 'Ada King');
  assert.equal(await page.locator('#profile-reason').inputValue(), '');

  // The audit trail shows the change: by this support key, with its reason and what it set.
  const audited = page.locator('#audit-rows li[data-action="profile_change"]');
  await audited.getByText('member called').waitFor();
  assert.equal(await audited.locator('code').textContent(), keyId('e2e support'));
  assert.equal(await audited.locator('.actor-name').textContent(), 'e2e support');
  const asked = await audited.locator('.hint').textContent();
  for (const part of ['name: Ada King', 'email: cleared', 'birthday: 1990-06-15', 'change_id: chg-']) {
    assert.ok(asked.includes(part), `${part} in ${asked}`);
  }

  const stored = await call('GET', `/v1/members/${member}`, keys.support);
  assert.equal(stored.name, 'Ada King');
  assert.equal(stored.email, null);
  assert.equal(stored.birthday, '1990-06-15');
  await shot(page, 'profile-corrected');
  await finish(ctx);
});

test('support: the audit trail shows 20 entries and pages to the older ones', { timeout: TEST_MS }, async () => {
  const member = 'm-e2e-audit';
  await call('POST', '/v1/members', keys.admin, { member_id: member });
  // 23 adjustments by hand, the first the oldest.
  for (let i = 1; i <= 23; i++) {
    await call('POST', `/v1/members/${member}/adjustments`, keys.support, { adjustment_id: `${member}-a${i}`, points: i, reason: `goodwill ${i}` });
  }
  const ctx = await openPage();
  const { page } = ctx;
  await signIn(page, keys.support, 'support');
  await lookUp(page, member);
  const rows = page.locator('#audit-rows li');
  await rows.first().getByText('goodwill 23').waitFor();
  assert.equal(await rows.count(), 20);
  assert.ok(await page.locator('#audit-more').isVisible(), 'older entries to show');
  await page.locator('#audit-more').click();
  await rows.nth(22).getByText('goodwill 1”').waitFor();
  assert.equal(await rows.count(), 23);
  assert.ok(await page.locator('#audit-more').isHidden(), 'nothing older');
  const reasons = await rows.evaluateAll((items) => items.map((li) => li.textContent.match(/goodwill (\d+)/)[1]));
  assert.deepEqual(reasons, Array.from({ length: 23 }, (_, i) => String(23 - i)));
  await finish(ctx);
});

test('program: every validation error at its line, then a valid check', { timeout: TEST_MS }, async () => {
  const ctx = await openPage();
  const { page } = ctx;
  await signIn(page, keys.support, 'support');
  await page.locator('#tab-program').click();
  await page.locator('#active-facts dd').getByText('Bean & Leaf Rewards', { exact: true }).waitFor();
  assert.ok(await page.locator('#activate-submit').isHidden(), 'support may not activate');
  await page.waitForFunction(() => document.getElementById('editor').value.includes('id: bean-and-leaf'), null, { timeout: STEP_MS });

  const source = fs.readFileSync(path.join(root, 'config', 'program.yaml'), 'utf8');
  const lines = source.split('\n');
  const zoneLine = lines.findIndex((l) => l.includes('time_zone:')) + 1;
  const rateLine = lines.findIndex((l) => l.includes('rate: {points: 2')) + 1;
  const broken = source.replace('America/New_York', 'Mars/Olympus').replace('rate: {points: 2,', 'rate: {points: two,');
  await page.locator('#editor').fill(broken);
  await page.locator('#check-submit').click();
  const zone = page.locator(`.program-error[data-line="${zoneLine}"]`);
  await zone.getByText('expected an IANA time zone').waitFor();
  await zone.getByText('program.time_zone').waitFor();
  assert.match(await zone.locator('pre.excerpt').textContent(), new RegExp(`^${zoneLine} \\| +time_zone: Mars/Olympus\\n +\\| +\\^$`));
  const rate = page.locator(`.program-error[data-line="${rateLine}"]`);
  await rate.getByText('earn[0].rate.points').waitFor();
  await page.locator('#program-answer .problem-detail').getByText('2 problem(s)', { exact: true }).waitFor();
  assert.deepEqual(await page.locator('#gutter .ln.bad').allTextContents(), [String(zoneLine), String(rateLine)]);
  await shot(page, 'program-errors');

  // The error's line button puts the cursor on that line.
  await zone.locator('button').click();
  const caret = await page.locator('#editor').evaluate((t) => t.value.slice(0, t.selectionStart).split('\n').length);
  assert.equal(caret, zoneLine);

  // Not YAML at all: one error, at its line.
  await page.locator('#editor').fill('program:\n  id: [unclosed\n');
  await page.locator('#editor').press('Control+Enter');
  await page.locator('.program-error').first().getByText('not valid YAML or JSON').waitFor();

  // Valid, with a promotion that ended long ago: said under the summary, at its line.
  const tuesdayLine = lines.findIndex((l) => l.includes('description: Double Tuesdays')) + 2;
  await page.locator('#editor').fill(source.replace('description: Double Tuesdays, base leaves x2\n', 'description: Double Tuesdays, base leaves x2\n    active: {until: 2020-01-31}\n'));
  await page.locator('#check-submit').click();
  await page.locator('#program-answer .answer-head').getByText('The program is valid.').waitFor();
  const note = page.locator(`.program-note[data-line="${tuesdayLine}"]`);
  await note.getByText('earn[1].active.until', { exact: true }).waitFor();
  await note.getByText('earn rule double_tuesday ended at the end of 2020-01-31 (America/New_York): it can earn nothing any more').waitFor();
  assert.equal(await page.locator('.program-note').count(), 1);
  await shot(page, 'program-notes');
  await note.locator('button').click();
  const noteCaret = await page.locator('#editor').evaluate((t) => t.value.slice(0, t.selectionStart).split('\n').length);
  assert.equal(noteCaret, tuesdayLine);

  await page.locator('#editor-reset').click();
  await page.locator('#check-submit').click();
  await page.locator('#program-answer .answer-head').getByText('The program is valid.').waitFor();
  await page.locator('#program-answer .hint').getByText('the same as the active program').waitFor();
  assert.equal(await page.locator('#gutter .ln.bad').count(), 0);
  assert.equal(await page.locator('.program-note').count(), 0);
  await finish(ctx);
});

test('program: simulate a purchase and see each rule explained', { timeout: TEST_MS }, async () => {
  const ctx = await openPage();
  const { page } = ctx;
  await signIn(page, keys.support, 'support');
  await page.locator('#tab-program').click();
  await page.locator('#sim-member').fill(MEMBER);
  await page.locator('#sim-store').fill('s-12');
  // Not a Tuesday in the program's time zone, so no double Tuesday (a simulation runs at the
  // later of now and this time).
  await page.locator('#sim-at').fill(notTuesday());
  await page.locator('#simulate-submit').click();
  const answer = page.locator('#simulate-answer .answer.ok');
  await answer.getByText('Would earn 29 leaves').waitFor();
  const row = (id) => answer.locator('.rules-table tbody tr', { has: page.locator(`th code:text-is("${id}")`) });
  assert.deepEqual(await row('base').locator('td').allTextContents(), ['yes', '2 per 1.00 USD on 14.00 USD (floor)', '28', '28', '28']);
  assert.equal(await row('bakery').locator('td').nth(0).textContent(), 'yes');
  assert.equal(await row('big_basket').locator('td').nth(0).textContent(), 'no');
  assert.match(await row('big_basket').locator('td').nth(1).textContent(), /below 30\.00 USD/);
  await answer.locator('.movements').getByText('28 leaves: 2 leaves per $1 (Gold 3, Reserve 4)').waitFor();
  await answer.locator('.movements').getByText('1 leaf: +1 leaf per bakery item').waitFor();
  await shot(page, 'simulate');

  // A line added with the keyboard, with a price that is not whole: the server's error lands
  // on that line's field.
  await page.locator('#sim-add-line').click();
  await page.keyboard.type('coffee');
  const third = page.locator('#sim-lines tr').nth(2);
  await third.locator('input[data-name="unit_price"]').fill('5.25');
  await page.locator('#simulate-submit').click();
  await page.locator('#simulate-answer .answer.problem').getByText('lines[2].unit_price').first().waitFor();
  assert.equal(await third.locator('input[data-name="unit_price"]').getAttribute('aria-invalid'), 'true');
  await finish(ctx);
});

test('admin: activate a new program version; invalid ones change nothing', { timeout: TEST_MS }, async () => {
  const ctx = await openPage();
  const { page } = ctx;
  await signIn(page, keys.admin, 'admin');
  await page.locator('#tab-program').click();
  await page.locator('#active-facts dd').getByText('#1', { exact: true }).waitFor();
  assert.ok(await page.locator('#activate-submit').isVisible());

  // Invalid: the errors, at their lines; the active version stays.
  await page.locator('#editor').fill('program:\n  id: x\n  time_zone: Mars/Olympus\n');
  await page.locator('#activate-submit').click();
  await page.locator('#activate-yes').click();
  await page.locator('.program-error[data-line="3"]').getByText('IANA time zone').waitFor();
  assert.equal((await call('GET', '/v1/program', keys.admin)).id, 1);

  // Keep editing: nothing sent.
  await page.locator('#editor-reset').click();
  const source = await page.locator('#editor').inputValue();
  // Version 2 also ends the double Tuesdays, long ago: the activation and the active program
  // say so.
  await page.locator('#editor').fill(
    source
      .replace('name: Bean & Leaf Rewards', 'name: Bean & Leaf Rewards E2E')
      .replace('description: Double Tuesdays, base leaves x2\n', 'description: Double Tuesdays, base leaves x2\n    active: {until: 2020-01-31}\n'),
  );
  await page.locator('#activate-submit').click();
  await page.locator('#activate-no').click();
  assert.ok(await page.locator('#activate-confirm').isHidden());
  assert.equal((await call('GET', '/v1/program', keys.admin)).id, 1);

  await page.locator('#activate-submit').click();
  await shot(page, 'program-activate-confirm');
  await page.locator('#activate-yes').click();
  await page.locator('#program-answer .answer.ok').getByText('Activated version #2: Bean & Leaf Rewards E2E').waitFor();
  await page.locator('#active-facts dd').getByText('Bean & Leaf Rewards E2E', { exact: true }).waitFor();
  const ended = 'earn rule double_tuesday ended at the end of 2020-01-31 (America/New_York): it can earn nothing any more';
  await page.locator('#program-answer .program-note[data-line="59"]').getByText(ended).waitFor();
  const activeNote = page.locator('#active-facts .program-note[data-line="59"]');
  await activeNote.getByText(ended).waitFor();
  await activeNote.getByText('Line 59, column 21', { exact: true }).waitFor();
  assert.equal(await activeNote.locator('button').count(), 0, 'the active program is not the editor');
  const active = await call('GET', '/v1/program', keys.admin);
  assert.equal(active.id, 2);
  assert.equal(active.name, 'Bean & Leaf Rewards E2E');
  assert.equal(active.notes.length, 1);
  assert.equal(active.notes[0].path, 'earn[1].active.until');
  // The activations: the new version first and active, the first one below it, which opens in
  // the editor as it was stored (the way back).
  await page.locator('#version-rows li[data-version="2"][data-active="true"]').waitFor();
  const older = page.locator('#version-rows li[data-version="1"]').last();
  assert.match(await older.textContent(), /by startup/);
  await older.getByRole('button', { name: 'Open version #1 in the editor' }).click();
  await page.waitForFunction(() => document.getElementById('editor').value.includes('name: Bean & Leaf Rewards\n'), null, { timeout: STEP_MS });
  assert.equal(await page.locator('#editor').inputValue(), (await call('GET', '/v1/program/versions/1', keys.admin)).source);
  await shot(page, 'program-activated');

  // More activations than a page holds (50): the newest page, then the rest behind the button.
  assert.ok(await page.locator('#versions-more').isHidden(), 'two activations fit one page');
  const sources = [1, 2].map(async (id) => (await call('GET', `/v1/program/versions/${id}`, keys.admin)).source);
  const [first, second] = await Promise.all(sources);
  for (let i = 0; i < 50; ++i) {
    const res = await fetch(`${base}/v1/program/versions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${keys.admin}`, 'Content-Type': 'application/yaml' },
      body: i % 2 === 0 ? first : second,
      signal: AbortSignal.timeout(STEP_MS),
    });
    assert.equal(res.status, 201, await res.text());
  }
  await page.locator('#tab-members').click();
  await page.locator('#tab-program').click();
  await page.locator('#versions-more').waitFor();
  assert.equal(await page.locator('#version-rows li').count(), 50);
  assert.equal(await page.locator('#version-rows li[data-active="true"]').count(), 1);
  await page.locator('#versions-more').click();
  await page.waitForFunction(() => document.querySelectorAll('#version-rows li').length === 52, null, { timeout: STEP_MS });
  assert.ok(await page.locator('#versions-more').isHidden(), 'nothing older');
  assert.equal(await page.locator('#version-rows li[data-active="true"]').count(), 1);
  assert.match(await page.locator('#version-rows li').last().textContent(), /by startup/);
  await finish(ctx);
});

test('a revoked key signs the console out', { timeout: TEST_MS }, async () => {
  const ctx = await openPage();
  const { page } = ctx;
  await signIn(page, keys.victim, 'support');
  run(['keys', 'revoke', '--db', path.join(tmp, 'loyalty.db'), keyId('e2e revoked')]);
  await page.locator('#lookup-id').fill(MEMBER);
  await page.keyboard.press('Enter');
  await page.locator('#signin-status').getByText('refused the key').waitFor();
  assert.ok(await page.locator('#signin-view').isVisible());
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  await finish(ctx);
});

test('a phone: the member page fits the screen', { timeout: TEST_MS }, async () => {
  const ctx = await openPage({ viewport: { width: 390, height: 844 }, mobile: true });
  const { page } = ctx;
  await signIn(page, keys.support, 'support');
  await lookUp(page, MEMBER);
  await page.locator('#activity-rows tr').nth(1).waitFor();
  // On a phone the layout viewport grows to fit what overflows, so compare with the screen.
  const overflow = await page.evaluate((width) => document.documentElement.scrollWidth - width, 390);
  assert.ok(overflow <= 1, `the page is ${overflow}px wider than the screen`);
  await shot(page, 'member-phone');
  await page.locator('#tab-program').click();
  await page.locator('#active-facts dd').first().waitFor();
  const programOverflow = await page.evaluate((width) => document.documentElement.scrollWidth - width, 390);
  assert.ok(programOverflow <= 1, `the program page is ${programOverflow}px wider than the screen`);
  await shot(page, 'program-phone');
  await finish(ctx);
});
