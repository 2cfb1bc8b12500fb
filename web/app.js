// The loyalty console: sign-in with an API key, members (support) and the program (merchants),
// on the server's REST API (docs/api.md).
//
// Safety: nothing the server or the user sends is ever parsed as HTML. Every text reaches the
// page through textContent or a text node (see `el`), and the page's content security policy
// allows no inline script or style. The API key lives in sessionStorage only.

const KEY_STORAGE = 'loyalty.console.key';
const ACTIVITY_PAGE = 20;
const REQUEST_TIMEOUT_MS = 20000;
const ROLES = ['pos', 'support', 'admin'];

// What each role may do, from the route table in docs/api.md. `console: false` marks what the
// key allows through the API but this console does not offer.
const CAPABILITIES = [
  { id: 'lookup', text: 'Look up a member: balance, tier, vouchers', roles: ROLES },
  { id: 'activity', text: "Read a member's activity history", roles: ['support', 'admin'] },
  { id: 'vouchers', text: "See what became of a member's vouchers", roles: ['support', 'admin'] },
  { id: 'tiers', text: "See a member's tier changes and the metric behind each", roles: ['support', 'admin'] },
  { id: 'adjust', text: 'Adjust points, with a reason', roles: ['support', 'admin'] },
  { id: 'cancel', text: 'Cancel a redemption', roles: ['support', 'admin'] },
  { id: 'profile', text: "Correct a member's name, email or birthday", roles: ['support', 'admin'] },
  { id: 'audit', text: 'See what was done to a member by hand, by which key', roles: ['support', 'admin'] },
  { id: 'program', text: 'View the active program', roles: ROLES },
  { id: 'versions', text: 'See every program activation, by whom, and open an older version', roles: ['support', 'admin'] },
  { id: 'check', text: 'Check a program text', roles: ROLES },
  { id: 'simulate', text: 'Simulate a purchase', roles: ROLES },
  { id: 'activate', text: 'Activate a new program version', roles: ['admin'] },
  {
    id: 'pos',
    text: 'Enrol members, post purchases, returns, events and redemptions',
    roles: ['pos', 'admin'],
    console: false,
  },
];

const state = {
  key: null,
  role: null,
  keyInfo: null, // GET /v1/key: the key's id, name, role and store
  program: null, // GET /v1/program
  currency: null, // from the program's summary
  zone: null, // the program's time zone, from its summary: times are shown in it
  memberId: null,
  member: null,
  activity: { cursors: [null], page: 0 },
  lookupSeq: 0,
  partSeq: {}, // per part of a member read beside the lookup: its latest request
  auditCursor: null, // where the audit trail's next older page starts, if any
  versionsCursor: null, // where the next older page of activations starts, if any
  activitySeq: 0,
  errorLines: new Map(), // editor line -> messages, from the last check
};

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------------------------
// DOM helpers: elements from text only.

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else if (name.startsWith('on') && typeof value === 'function') {
      node.addEventListener(name.slice(2), value);
    } else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function clear(node) {
  node.replaceChildren();
  return node;
}

const numberFormat = new Intl.NumberFormat();
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

function fmtInt(n) {
  return typeof n === 'number' ? numberFormat.format(n) : String(n ?? '');
}

function fmtSigned(n) {
  if (typeof n !== 'number') return String(n ?? '');
  return (n > 0 ? '+' : n < 0 ? '−' : '') + numberFormat.format(Math.abs(n));
}

// A <time> element: local time shown, the server's UTC text kept in datetime and title.
// Times are shown in the program's time zone, named, whatever the agent's browser is set to: a
// member's points expire at the end of a day in that zone, and an agent elsewhere would
// otherwise tell them another day.
const zoneFormats = new Map();
function formatsFor(zone) {
  if (!zone) return null;
  if (!zoneFormats.has(zone)) {
    try {
      zoneFormats.set(zone, {
        dateTime: new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short', timeZone: zone }),
        date: new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: zone }),
        name: new Intl.DateTimeFormat(undefined, { timeZone: zone, timeZoneName: 'short' }),
      });
    } catch {
      zoneFormats.set(zone, null); // a zone this browser does not know: its own is used
    }
  }
  return zoneFormats.get(zone);
}

function timeEl(iso, dateOnly = false) {
  if (!iso) return document.createTextNode('—');
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return el('time', { datetime: iso, title: iso, text: iso });
  const f = formatsFor(state.zone);
  if (!f) return el('time', { datetime: iso, title: iso, text: (dateOnly ? dateFormat : dateTimeFormat).format(d) });
  const zoneName = f.name.formatToParts(d).find((p) => p.type === 'timeZoneName')?.value ?? state.zone;
  const text = dateOnly ? f.date.format(d) : `${f.dateTime.format(d)} ${zoneName}`;
  return el('time', { datetime: iso, title: `${iso} (shown in ${state.zone}, the program's time zone)`, text });
}

function fmtMoney(minor) {
  if (typeof minor !== 'number') return String(minor ?? '');
  if (state.currency) {
    try {
      const f = new Intl.NumberFormat(undefined, { style: 'currency', currency: state.currency });
      const digits = f.resolvedOptions().maximumFractionDigits;
      return f.format(minor / 10 ** digits);
    } catch {
      // not a currency Intl knows: fall through
    }
  }
  return `${numberFormat.format(minor)} (minor units)`;
}

function points(n, unit) {
  return `${fmtInt(n)} ${unit ?? state.member?.unit ?? 'points'}`;
}

function setBusy(button, busy) {
  if (!button) return;
  // A disabled button loses the focus to the page's body, and the next Tab starts over from
  // the top: the focus goes back to it, unless something else took it meanwhile.
  if (busy) button.dataset.refocus = document.activeElement === button ? 'yes' : '';
  button.disabled = busy;
  button.setAttribute('aria-busy', busy ? 'true' : 'false');
  if (!busy && button.dataset.refocus === 'yes' && !button.hidden &&
      (document.activeElement === document.body || document.activeElement === null)) {
    button.focus();
  }
}

function setStatus(node, text, kind = 'info') {
  clear(node);
  node.classList.remove('loading', 'error', 'ok');
  if (!text) return;
  node.classList.add(kind);
  node.textContent = text;
}

// A refused or failed request's problem in a status node, in place of its progress.
function showProblem(node, r) {
  setStatus(node, '');
  node.append(problemBox(r));
}

// ---------------------------------------------------------------------------------------------
// The API.

// One request; never throws. The answer: {ok, status, statusText, data, problem, requestId, ...}.
// A 401 on the signed-in key signs out.
async function api(method, path, { json, body, type, key } = {}) {
  const usedKey = key ?? state.key;
  const headers = { Accept: 'application/json, application/problem+json' };
  if (usedKey) headers.Authorization = `Bearer ${usedKey}`;
  let payload;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(json);
  } else if (body !== undefined) {
    headers['Content-Type'] = type;
    payload = body;
  }
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: payload,
      cache: 'no-store',
      credentials: 'omit',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (e) {
    const timedOut = e && (e.name === 'TimeoutError' || e.name === 'AbortError');
    return {
      ok: false,
      status: 0,
      statusText: '',
      problem: {
        title: timedOut ? 'The server did not answer in time' : 'Could not reach the server',
        detail: timedOut
          ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s; a write may still have been done — retrying it with the same id is safe`
          : 'check the connection and that the server is running',
      },
    };
  }
  const text = await res.text().catch(() => '');
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  const answer = {
    ok: res.ok,
    status: res.status,
    statusText: res.statusText,
    data,
    requestId: res.headers.get('X-Request-Id'),
    retryAfter: res.headers.get('Retry-After'),
    replayed: res.headers.get('Idempotent-Replayed') === 'true',
  };
  if (!res.ok) {
    answer.problem =
      data && typeof data === 'object'
        ? data
        : { title: res.statusText || `HTTP ${res.status}`, detail: text.slice(0, 300) };
  }
  if (res.status === 401 && key === undefined && state.key) {
    signOut('The server refused the key (unknown or revoked). Sign in again.');
  }
  return answer;
}

function slug(problem) {
  const type = problem?.type;
  return typeof type === 'string' ? type.slice(type.lastIndexOf('/') + 1) : '';
}

function statusLine(r) {
  if (r.status === 0) return 'No answer';
  return `${r.status} ${r.statusText || ''}`.trim();
}

// An error answer, as text nodes: status, title, detail, fields, program errors, request id.
function problemBox(r, { errorsAsList = true } = {}) {
  const p = r.problem || {};
  const box = el('div', { class: 'answer problem', role: 'alert' });
  const head = [statusLine(r)];
  if (p.title) head.push(p.title);
  box.append(el('p', { class: 'answer-head' }, el('strong', { text: head.join(' · ') })));
  if (p.detail) box.append(el('p', { class: 'problem-detail', text: p.detail }));
  if (r.status === 429 && r.retryAfter) {
    box.append(el('p', { text: `Too many requests: try again in ${r.retryAfter} s.` }));
  }
  if (r.status === 403 && state.role) {
    box.append(el('p', { class: 'hint', text: `The ${state.role ?? ''} role may not do this.` }));
  }
  if (Array.isArray(p.fields) && p.fields.length && !(errorsAsList && Array.isArray(p.errors))) {
    box.append(el('p', {}, 'Fields: ', p.fields.map((f, i) => [i ? ', ' : '', el('code', { text: f || '(whole body)' })])));
  }
  const meta = [];
  if (slug(p)) meta.push(el('span', {}, 'type ', el('code', { text: slug(p) })));
  if (r.requestId) meta.push(el('span', {}, 'request id ', el('code', { text: r.requestId })));
  if (meta.length) box.append(el('p', { class: 'meta' }, meta.map((m, i) => [i ? ' · ' : '', m])));
  return box;
}

// Marks a form's inputs named by a problem's `fields` (matched on data-field).
function markFields(form, r) {
  if (!form) return;
  for (const input of form.querySelectorAll('[data-field]')) {
    input.removeAttribute('aria-invalid');
  }
  const fields = r?.problem?.fields;
  if (!Array.isArray(fields)) return;
  let first = null;
  for (const f of fields) {
    for (const input of form.querySelectorAll('[data-field]')) {
      if (input.dataset.field === f) {
        input.setAttribute('aria-invalid', 'true');
        first ??= input;
      }
    }
  }
  return first;
}

// ---------------------------------------------------------------------------------------------
// Outcomes (the answer of every write and of a simulation).

const POINT_KEYS = [
  ['earned', 'earned'],
  ['pending', 'of those pending'],
  ['burned', 'burned'],
  ['restored', 'restored'],
  ['expired', 'expired'],
  ['reversed', 'reversed'],
  ['adjusted', 'adjusted'],
  ['matured', 'matured'],
  ['shortfall', 'shortfall'],
];

function outcomeBox(r, headline) {
  const o = r.data || {};
  const unit = o.unit || state.member?.unit || 'points';
  const box = el('div', { class: 'answer ok' });
  const head = [statusLine(r)];
  if (r.replayed) head.push('replayed: this was done before, nothing changed now');
  box.append(el('p', { class: 'answer-head' }, el('strong', { text: headline }), ' ', el('span', { class: 'meta', text: `(${head.join(' · ')})` })));

  const facts = el('dl', { class: 'facts compact' });
  const add = (term, ...value) => facts.append(el('dt', { text: term }), el('dd', {}, ...value));
  if (o.balance) {
    add('Balance after', `${points(o.balance.available, unit)} available, ${fmtInt(o.balance.pending)} pending`);
  }
  if (o.points) {
    const parts = POINT_KEYS.filter(([k]) => typeof o.points[k] === 'number' && o.points[k] !== 0).map(
      ([k, label]) => `${label} ${fmtInt(o.points[k])}`,
    );
    add('Points', parts.length ? parts.join(', ') : 'no change');
    if (o.points.available_from) add('Pending until', timeEl(o.points.available_from));
  }
  if (o.tier) {
    add('Tier', o.tier.changed ? `${o.tier.before} → ${o.tier.after}` : `${o.tier.after} (unchanged)`, `, metric ${fmtInt(o.tier.metric)}`);
  }
  if (o.program_version) add('Program version', el('code', { text: String(o.program_version).slice(0, 12) }));
  if (r.requestId) add('Request id', el('code', { text: r.requestId }));
  box.append(facts);

  if (Array.isArray(o.movements) && o.movements.length) {
    box.append(el('h4', { text: 'Ledger entries' }));
    box.append(
      el(
        'ul',
        { class: 'movements' },
        o.movements.map((m) =>
          el(
            'li',
            {},
            el('span', { class: `points ${m.points < 0 ? 'neg' : 'pos'}`, text: fmtSigned(m.points) }),
            ' ',
            el('span', { class: 'kind', text: m.kind }),
            m.pending ? el('span', { class: 'tag', text: 'pending' }) : null,
            ' ',
            el('span', { text: m.explanation || '' }),
          ),
        ),
      ),
    );
  }
  if (Array.isArray(o.rules) && o.rules.length) box.append(rulesTable(o.rules));
  if (Array.isArray(o.vouchers) && o.vouchers.length) {
    box.append(el('h4', { text: 'Vouchers issued' }));
    box.append(
      el('ul', {}, o.vouchers.map((v) => el('li', {}, el('code', { text: v.id }), ` ${v.reward_id}, valid until `, timeEl(v.valid_until)))),
    );
  }
  if (Array.isArray(o.referrals) && o.referrals.length) {
    box.append(el('h4', { text: 'Referral points' }));
    box.append(el('ul', {}, o.referrals.map((x) => el('li', { text: `${x.member_id}: ${fmtInt(x.points)} — ${x.explanation}` }))));
  }
  box.append(rawJson(r.data));
  return box;
}

function rulesTable(rules) {
  const body = el('tbody');
  for (const rule of rules) {
    body.append(
      el(
        'tr',
        { class: rule.matched ? 'matched' : 'unmatched' },
        el('th', { scope: 'row' }, el('code', { text: rule.id })),
        el('td', { text: rule.matched ? 'yes' : 'no' }),
        el('td', { text: rule.reason || '' }),
        el('td', { class: 'num', text: rule.exact || '' }),
        el('td', { class: 'num', text: fmtInt(rule.rounded) }),
        el('td', { class: 'num', text: fmtInt(rule.points) }),
      ),
    );
  }
  return el(
    'div',
    { class: 'rules' },
    el('h4', { text: 'Rules, one by one' }),
    el(
      'div',
      { class: 'table-wrap' },
      el(
        'table',
        { class: 'data rules-table' },
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            ['Rule', 'Matched', 'Why', 'Exact', 'Rounded', 'Points'].map((h, i) =>
              el('th', { scope: 'col', class: i >= 3 ? 'num' : null, text: h }),
            ),
          ),
        ),
        body,
      ),
    ),
  );
}

function rawJson(data) {
  return el(
    'details',
    { class: 'raw' },
    el('summary', { text: "The server's answer (JSON)" }),
    el('pre', { text: JSON.stringify(data, null, 2) ?? '' }),
  );
}

// ---------------------------------------------------------------------------------------------
// Sign-in and roles.

// The key's role from the server (GET /v1/key), and the active program.
async function probe(key) {
  const me = await api('GET', '/v1/key', { key });
  if (me.status === 401) {
    return { error: 'The server does not know this key, or it was revoked.', answer: me };
  }
  if (!me.ok || !ROLES.includes(me.data?.role)) return { answer: me };
  const program = await api('GET', '/v1/program', { key });
  if (!program.ok) return { answer: program };
  return { role: me.data.role, keyInfo: me.data, program: program.data };
}

function can(capability) {
  const c = CAPABILITIES.find((x) => x.id === capability);
  return Boolean(c && state.role && c.roles.includes(state.role));
}

function applyRole() {
  $('who-role').textContent = state.role;
  $('role-name').textContent = state.role;
  const k = state.keyInfo || {};
  const facts = clear($('key-facts'));
  facts.append('Signed in with the key ', el('strong', { text: k.name || '(no name)' }), ' (', el('code', { text: k.id ?? '' }), ')');
  facts.append(...(k.store_id ? [', bound to store ', el('code', { text: k.store_id }), '.'] : ['.']));
  const list = clear($('role-list'));
  for (const c of CAPABILITIES) {
    const allowed = c.roles.includes(state.role);
    list.append(
      el(
        'li',
        { class: allowed ? 'allowed' : 'denied', 'data-capability': c.id },
        el('span', { class: 'mark', 'aria-hidden': 'true', text: allowed ? '✓' : '✗' }),
        el('span', { class: 'visually-hidden', text: allowed ? 'Allowed: ' : 'Not allowed: ' }),
        c.text,
        allowed && c.console === false ? el('span', { class: 'hint', text: ' (through the API, not this console)' }) : null,
      ),
    );
  }
  for (const node of document.querySelectorAll('[data-cap]')) node.hidden = !can(node.dataset.cap);
  for (const node of document.querySelectorAll('[data-cap-denied]')) node.hidden = can(node.dataset.capDenied);
}

async function signIn(key, { restoring = false } = {}) {
  const status = $('signin-status');
  const button = $('signin-submit');
  setBusy(button, true);
  setStatus(status, restoring ? 'Checking the saved key…' : 'Checking the key…', 'loading');
  const result = await probe(key);
  setBusy(button, false);
  if (!result.role) {
    // A refused key is forgotten; one that could not be checked (server down) is kept.
    if (restoring && result.error) sessionStorage.removeItem(KEY_STORAGE);
    clear(status);
    status.classList.remove('loading');
    if (result.error) setStatus(status, result.error, 'error');
    if (result.answer) status.append(problemBox(result.answer));
    showSignIn();
    $('api-key').focus();
    return;
  }
  setStatus(status, '');
  state.key = key;
  state.role = result.role;
  state.keyInfo = result.keyInfo;
  sessionStorage.setItem(KEY_STORAGE, key);
  $('api-key').value = '';
  setProgram(result.program);
  applyRole();
  $('tabs').hidden = false;
  $('who').hidden = false;
  $('role-panel').hidden = false;
  $('signin-view').hidden = true;
  route();
  if (!restoring) $('main').focus();
}

function showSignIn() {
  $('signin-view').hidden = false;
  for (const id of ['tabs', 'who', 'role-panel', 'members-view', 'program-view']) $(id).hidden = true;
}

function signOut(message) {
  sessionStorage.removeItem(KEY_STORAGE);
  state.key = null;
  state.role = null;
  state.keyInfo = null;
  state.program = null;
  state.member = null;
  state.memberId = null;
  state.lookupSeq++;
  state.activitySeq++;
  for (const part of Object.keys(state.partSeq)) state.partSeq[part]++;
  // Forget what was shown for the previous key.
  $('member').hidden = true;
  for (const id of ['lookup-status', 'adjust-answer', 'cancel-answer', 'profile-answer', 'program-answer', 'simulate-answer', 'activity-rows', 'active-facts', 'active-source', 'm-vouchers', 'past-vouchers', 'past-vouchers-status', 'tier-history', 'tier-history-status', 'audit-rows', 'audit-status', 'key-facts', 'm-profile']) {
    clear($(id));
  }
  for (const id of ['lookup-form', 'adjust-form', 'cancel-form', 'profile-form']) $(id).reset();
  $('sim-member').value = '';
  $('editor').value = '';
  $('activate-confirm').hidden = true;
  $('audit-more').hidden = true;
  state.auditCursor = null;
  state.errorLines = new Map();
  renderGutter();
  showSignIn();
  setStatus($('signin-status'), message || 'Signed out.', message ? 'error' : 'info');
  if (location.hash) history.replaceState(null, '', location.pathname);
  $('api-key').focus();
}

// ---------------------------------------------------------------------------------------------
// Navigation: #members, #members/<id>, #program.

function route() {
  if (!state.role) return;
  const hash = location.hash.replace(/^#/, '');
  const [view, ...rest] = hash.split('/');
  const program = view === 'program';
  $('members-view').hidden = program;
  $('program-view').hidden = !program;
  for (const [tab, current] of [[$('tab-members'), !program], [$('tab-program'), program]]) {
    if (current) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
  if (program) {
    loadProgram();
    return;
  }
  if (view === 'members' && rest.length) {
    let id;
    try {
      id = decodeURIComponent(rest.join('/'));
    } catch {
      id = null;
    }
    if (id && id !== state.memberId) {
      $('lookup-id').value = id;
      lookUp(id);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Members.

async function lookUp(id) {
  const seq = ++state.lookupSeq;
  const status = $('lookup-status');
  const button = $('lookup-submit');
  // The member on screen stays state.memberId until the answer comes: the write forms act on
  // it. Looking up another, its panel is hidden meanwhile, so nothing is done to the member
  // shown while the agent is asking for another.
  if (id !== state.memberId) $('member').hidden = true;
  setBusy(button, true);
  setStatus(status, `Looking up ${id}…`, 'loading');
  const r = await api('GET', `/v1/members/${encodeURIComponent(id)}`);
  setBusy(button, false);
  if (seq !== state.lookupSeq) return; // another lookup, or signed out, meanwhile
  if (!r.ok) {
    state.member = null;
    $('member').hidden = true;
    showProblem(status, r);
    state.memberId = null;
    return;
  }
  state.memberId = id;
  setStatus(status, '');
  renderMember(r.data);
  $('member').hidden = false;
  clear($('adjust-answer'));
  clear($('cancel-answer'));
  $('cancel-id').value = '';
  $('cancel-reason').value = '';
  fieldError($('cancel-id'), $('cancel-id-error'), '');
  fieldError($('cancel-reason'), $('cancel-reason-error'), '');
  fieldError($('adjust-points'), $('adjust-points-error'), '');
  fieldError($('adjust-reason'), $('adjust-reason-error'), '');
  newAdjustmentId();
  clear($('profile-answer'));
  fillProfileForm(r.data);
  if (!$('sim-member').value) $('sim-member').value = id;
  if (can('activity')) {
    state.activity = { cursors: [null], page: 0 };
    loadActivity(0);
  }
  if (can('vouchers')) loadPastVouchers();
  if (can('tiers')) loadTierHistory();
  if (can('audit')) loadAudit();
}

function renderMember(m) {
  state.member = m;
  const unit = m.unit || 'points';
  for (const node of document.querySelectorAll('.unit-name')) node.textContent = unit;
  $('m-title').textContent = m.name || m.member_id;

  const profile = clear($('m-profile'));
  const add = (term, ...value) => profile.append(el('dt', { text: term }), el('dd', {}, ...value));
  add('Member id', el('code', { text: m.member_id }));
  if (m.email) add('Email', m.email);
  add('Enrolled', timeEl(m.enrolled_at));
  if (m.birthday) add('Birthday', m.birthday);
  if (m.referred_by) add('Referred by', el('code', { text: m.referred_by }));
  if (m.lifetime) {
    add('Lifetime', `${points(m.lifetime.points, unit)}, ${fmtInt(m.lifetime.purchases)} ${m.lifetime.purchases === 1 ? 'purchase' : 'purchases'}, ${fmtMoney(m.lifetime.spend)} spent`);
  }
  add('Revision', fmtInt(m.revision));

  $('m-available').textContent = fmtInt(m.balance?.available);
  $('m-pending').textContent = fmtInt(m.balance?.pending);
  // When the pending points can be spent: the soonest together, as the member will ask.
  const available = clear($('m-available-from'));
  available.hidden = !m.next_available?.at;
  if (m.next_available?.at) {
    const rest = (m.balance?.pending ?? 0) - (m.next_available.points ?? 0);
    available.append(`${points(m.next_available.points, unit)} available from `, timeEl(m.next_available.at),
      rest > 0 ? `; ${fmtInt(rest)} more later.` : '.');
  }
  // Owed: what returns could not take back, the points having been spent already.
  const owed = $('m-owed');
  owed.hidden = !(m.balance?.owed > 0);
  owed.textContent = owed.hidden ? '' : `Owes ${points(m.balance.owed, unit)}: returned purchases' points that had been spent. Points spent that come back (a cancelled redemption) settle it first.`;
  const expiry = clear($('m-expiry'));
  if (m.next_expiry) {
    expiry.append(`Next to expire: ${points(m.next_expiry.points, unit)} on `, timeEl(m.next_expiry.at));
  } else expiry.append('No points due to expire.');

  const tier = m.tier || {};
  $('m-tier').textContent = tier.name || tier.id || '';
  const progress = $('m-progress');
  const label = $('m-progress-label');
  const next = clear($('m-tier-next'));
  if (tier.next) {
    progress.max = Math.max(1, tier.next.threshold);
    progress.value = Math.min(tier.metric ?? 0, tier.next.threshold);
    const nextName = tier.next.name || tier.next.tier;
    label.textContent = `Progress to ${nextName}: ${fmtInt(tier.metric)} of ${fmtInt(tier.next.threshold)}`;
    next.append(`${fmtInt(tier.next.needed)} more to reach ${nextName} (tier metric ${fmtInt(tier.metric)}).`);
  } else {
    progress.max = 1;
    progress.value = 1;
    label.textContent = 'Top tier';
    next.append(`The top tier (tier metric ${fmtInt(tier.metric)}).`);
  }
  const ends = clear($('m-tier-ends'));
  ends.append('Since ', timeEl(tier.since, true), '. ');
  if (tier.valid_until) ends.append('Status ends ', timeEl(tier.valid_until, true), '.');
  else ends.append('The status does not end.');
  const keep = $('m-tier-keep');
  keep.textContent = '';
  if (tier.keep) {
    keep.textContent =
      tier.keep.needed > 0
        ? `To keep ${tier.name || tier.id} at the status end: ${fmtInt(tier.keep.needed)} more (${fmtInt(tier.keep.metric_at_end)} of ${fmtInt(tier.keep.threshold)} count then).`
        : `On track to keep ${tier.name || tier.id} (${fmtInt(tier.keep.metric_at_end)} of ${fmtInt(tier.keep.threshold)} count at the status end).`;
  }

  const vouchers = clear($('m-vouchers'));
  const list = Array.isArray(m.vouchers) ? m.vouchers : [];
  $('m-vouchers-empty').hidden = list.length > 0;
  for (const v of list) {
    const item = el(
      'li',
      { class: 'voucher' },
      el('span', {}, el('strong', { text: v.reward_id }), ' ', el('code', { text: v.id })),
      el('span', { class: 'hint' }, 'valid until ', timeEl(v.valid_until), v.cause ? ` · from ${v.cause}` : ''),
    );
    if (can('cancel') && v.cause) {
      item.append(
        el('button', {
          type: 'button',
          class: 'secondary small',
          'aria-label': `Cancel redemption ${v.cause}`,
          text: 'Cancel…',
          onclick: () => {
            $('cancel-id').value = v.cause;
            $('cancel-section').scrollIntoView({ block: 'nearest' });
            $('cancel-reason').focus(); // the one thing left to give
          },
        }),
      );
    }
    vouchers.append(item);
  }
}

// GET /v1/members/{id}/{part} for the member on screen, showing its progress and any problem in
// the node `statusId`. The answer's data, or null when it failed or was overtaken (another
// member, a newer read of the same part, signing out). Reads sharing a `seqKey` overtake each
// other (the pages of one list).
async function readMemberPart(part, statusId, loading, seqKey = part) {
  const id = state.memberId;
  if (!id) return null;
  const seq = (state.partSeq[seqKey] = (state.partSeq[seqKey] ?? 0) + 1);
  const status = $(statusId);
  setStatus(status, loading, 'loading');
  const r = await api('GET', `/v1/members/${encodeURIComponent(id)}/${part}`);
  if (seq !== state.partSeq[seqKey] || id !== state.memberId) return null;
  if (!r.ok) {
    showProblem(status, r);
    return null;
  }
  setStatus(status, '');
  return r.data ?? {};
}

// Every tier change, newest first, with the metric that decided it and what made it.
async function loadTierHistory() {
  const list = clear($('tier-history'));
  const data = await readMemberPart('tier-history', 'tier-history-status', 'Loading the tier changes…');
  if (!data) return;
  for (const c of Array.isArray(data.changes) ? data.changes : []) {
    const name = (t) => t?.name || t?.id || '';
    const change = c.before ? `${name(c.before)} → ${name(c.after)}` : `Joined as ${name(c.after)}`;
    list.append(
      el(
        'li',
        { class: `tier-change ${c.direction ?? ''}`, 'data-direction': String(c.direction ?? '') },
        el('strong', { text: change }),
        el('span', { class: 'hint' }, timeEl(c.at), ` · tier metric ${fmtInt(c.metric)} · by ${c.operation ?? ''}`),
      ),
    );
  }
}

// Who asked for an entry: the key's name where it has one, then its id (jobs, cli: the id only).
function actorParts(e) {
  const id = el('code', { text: e.actor ?? '' });
  return e.actor_name ? [el('span', { class: 'actor-name', text: e.actor_name }), ' ', id] : [id];
}

// The query of one page of a list: `limit`, and the cursor of the page after the last one shown.
function pageQuery(limit, cursor) {
  const query = new URLSearchParams({ limit: String(limit) });
  if (cursor) query.set('cursor', cursor);
  return query.toString();
}

// The member's audit trail, 20 entries at a time: what a key did by hand, and why. `older`
// appends the page after the last one shown; otherwise the list starts again from the newest.
async function loadAudit(older = false) {
  const more = $('audit-more');
  const cursor = older ? state.auditCursor : null;
  if (older && !cursor) return;
  more.hidden = true;
  if (!older) {
    clear($('audit-rows'));
    $('audit-empty').hidden = true;
    state.auditCursor = null;
  }
  const part = `audit?${pageQuery(20, cursor)}`;
  const data = await readMemberPart(part, 'audit-status', 'Loading the audit trail…', 'audit');
  if (!data) return;
  const list = $('audit-rows');
  const entries = Array.isArray(data.entries) ? data.entries : [];
  $('audit-empty').hidden = older || entries.length > 0;
  state.auditCursor = data.next_cursor ?? null;
  more.hidden = !state.auditCursor;
  for (const e of entries) {
    // What was asked, without what the line already says.
    const asked = Object.entries(e.request && typeof e.request === 'object' ? e.request : {})
      .filter(([k]) => k !== 'member_id' && k !== 'reason')
      .map(([k, v]) => `${k}: ${v === null ? 'cleared' : v}`)
      .join(', ');
    list.append(
      el(
        'li',
        { class: 'audit-entry', 'data-action': String(e.action ?? '') },
        el('span', {}, el('strong', { text: e.action ?? '' }), ' by ', ...actorParts(e), ` (${e.role ?? ''})`, e.reason ? ` · “${e.reason}”` : ''),
        el('span', { class: 'hint' }, timeEl(e.at), asked ? ` · ${asked}` : ''),
      ),
    );
  }
}

// The vouchers no longer usable, from the member's voucher history: what became of each.
async function loadPastVouchers() {
  const list = clear($('past-vouchers'));
  $('past-vouchers-empty').hidden = true;
  const data = await readMemberPart('vouchers', 'past-vouchers-status', 'Loading the vouchers…');
  if (!data) return;
  const past = (Array.isArray(data.vouchers) ? data.vouchers : []).filter((v) => v.status !== 'usable');
  $('past-vouchers-empty').hidden = past.length > 0;
  for (const v of past) {
    const what = el('span', { class: 'hint' });
    if (v.status === 'used') {
      what.append('used ', timeEl(v.used_at));
      if (v.transaction_id) what.append(' on ', el('code', { text: v.transaction_id }));
      if (v.store_id) what.append(' at store ', el('code', { text: v.store_id }));
    } else if (v.status === 'expired') {
      what.append('expired ', timeEl(v.valid_until));
    } else if (v.status === 'cancelled') {
      what.append('cancelled with its redemption, points returned');
    } else {
      what.append(String(v.status ?? ''));
    }
    if (v.cause) what.append(` · from ${v.cause}`);
    list.append(
      el(
        'li',
        { class: `voucher ${v.status}`, 'data-voucher': String(v.id ?? ''), 'data-status': String(v.status ?? '') },
        el('span', {}, el('strong', { text: v.reward_id }), ' ', el('code', { text: v.id })),
        what,
      ),
    );
  }
}

async function loadActivity(page) {
  const id = state.memberId;
  if (!id) return;
  const seq = ++state.activitySeq;
  const status = $('activity-status');
  const cursor = state.activity.cursors[page];
  const query = pageQuery(ACTIVITY_PAGE, cursor);
  $('activity-newer').disabled = true;
  $('activity-older').disabled = true;
  $('activity-table').setAttribute('aria-busy', 'true');
  setStatus(status, 'Loading the activity…', 'loading');
  const r = await api('GET', `/v1/members/${encodeURIComponent(id)}/activity?${query}`);
  if (seq !== state.activitySeq) return;
  $('activity-table').setAttribute('aria-busy', 'false');
  if (!r.ok) {
    showProblem(status, r);
    $('activity-newer').disabled = page === 0;
    $('activity-older').disabled = true;
    return;
  }
  setStatus(status, '');
  state.activity.page = page;
  state.activity.cursors[page + 1] = r.data.next_cursor;
  state.activity.cursors.length = page + 2;
  const rows = clear($('activity-rows'));
  const entries = Array.isArray(r.data.entries) ? r.data.entries : [];
  if (!entries.length) {
    rows.append(el('tr', {}, el('td', { colspan: '5', class: 'hint', text: 'No activity yet.' })));
  }
  for (const e of entries) {
    rows.append(
      el(
        'tr',
        { 'data-entry': String(e.id) },
        el('td', { class: 'when' }, timeEl(e.at)),
        el('td', { class: 'what' }, el('span', { class: 'kind', text: e.kind }), e.pending ? el('span', { class: 'tag', text: 'pending' }) : null),
        el('td', { class: `num points ${e.points < 0 ? 'neg' : 'pos'}`, text: fmtSigned(e.points) }),
        el('td', { class: 'explanation', text: e.explanation || '' }),
        el(
          'td',
          { class: 'operation' },
          `${e.operation ?? ''}`,
          e.cause ? el('span', { class: 'hint' }, ' · ', el('code', { text: e.cause })) : null,
          e.actor ? el('span', { class: 'hint actor' }, ' · by ', ...actorParts(e)) : null,
        ),
      ),
    );
  }
  $('activity-page').textContent = `Page ${page + 1}`;
  $('activity-newer').disabled = page === 0;
  $('activity-older').disabled = !r.data.next_cursor;
}

// A fresh id for a write the console sends: `prefix`-date-time-random, in the field `inputId`.
function newWriteId(prefix, inputId) {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  const random = crypto.getRandomValues(new Uint32Array(1))[0].toString(36);
  $(inputId).value = `${prefix}-${stamp}-${random}`;
}

function newAdjustmentId() {
  newWriteId('adj', 'adjust-id');
}

// The profile form starts from the member as shown, so that only what support changes is sent.
function fillProfileForm(m) {
  $('profile-name').value = m?.name ?? '';
  $('profile-email').value = m?.email ?? '';
  $('profile-birthday').value = m?.birthday ?? '';
  $('profile-reason').value = '';
  fieldError($('profile-name'), $('profile-name-error'), '');
  fieldError($('profile-reason'), $('profile-reason-error'), '');
  newWriteId('chg', 'profile-id');
}

async function submitProfile(event) {
  event.preventDefault();
  const form = $('profile-form');
  const answer = clear($('profile-answer'));
  markFields(form, null);
  const m = state.member || {};
  const reasonInput = $('profile-reason');
  const body = { change_id: $('profile-id').value.trim(), reason: reasonInput.value.trim() };
  // Each field that differs from the member shown: its new value, or null when emptied.
  for (const field of ['name', 'email', 'birthday']) {
    const value = $(`profile-${field}`).value.trim();
    if (value !== (m[field] ?? '')) body[field] = value || null;
  }
  const changed = ['name', 'email', 'birthday'].some((f) => f in body);
  fieldError($('profile-name'), $('profile-name-error'), changed ? '' : 'Change the name, the email or the birthday first.');
  fieldError(reasonInput, $('profile-reason-error'), body.reason ? '' : 'A reason is required: it is kept in the audit log.');
  if (!changed || !body.reason) {
    (changed ? reasonInput : $('profile-name')).focus();
    return;
  }
  const r = await sendWrite({
    form,
    button: $('profile-submit'),
    answer,
    loading: 'Saving the correction…',
    route: `/v1/members/${encodeURIComponent(state.memberId)}/profile-changes`,
    json: body,
  });
  if (!r) return;
  const corrected = `Profile corrected (${['name', 'email', 'birthday'].filter((f) => f in body).join(', ')})`;
  if (r.stale) {
    answer.append(outcomeBox(r, `${corrected} for member ${r.stale}, no longer shown`));
    return;
  }
  answer.append(outcomeBox(r, corrected));
  await refreshMember();
  fillProfileForm(state.member);
}

// POSTs one of the member forms' writes for the member on screen: the button busy and `loading`
// in `answer` meanwhile, then the server's problem there (its fields marked in `form`, the first
// focused). The answer when the write succeeded, else null. An answer that comes after another
// member was opened is about the member it was sent for: it is shown as theirs (`r.stale`), and
// leaves the forms, now the other member's, alone.
async function sendWrite({ form, button, answer, loading, route, json }) {
  const memberId = state.memberId;
  setBusy(button, true);
  const waiting = el('p', { class: 'status loading', text: loading });
  answer.append(waiting);
  const r = await api('POST', route, json === undefined ? {} : { json });
  setBusy(button, false);
  if (memberId !== state.memberId) {
    waiting.remove();
    const box = r.ok ? null : problemBox(r);
    if (box) {
      box.prepend(el('p', { class: 'answer-head', text: `For member ${memberId}, no longer shown:` }));
      answer.append(box);
      return null;
    }
    r.stale = memberId;
    return r;
  }
  clear(answer);
  if (!r.ok) {
    answer.append(problemBox(r));
    if (form) markFields(form, r)?.focus();
    return null;
  }
  return r;
}

function fieldError(input, errorNode, message) {
  if (message) {
    input.setAttribute('aria-invalid', 'true');
    errorNode.textContent = message;
    errorNode.hidden = false;
  } else {
    input.removeAttribute('aria-invalid');
    errorNode.textContent = '';
    errorNode.hidden = true;
  }
}

// Text that is a whole number becomes a number; anything else is sent as it is, for the server
// to refuse with the field's name.
function numberOrText(text) {
  const t = text.trim();
  return /^[-+]?\d+$/.test(t) ? Number(t) : t;
}

async function submitAdjustment(event) {
  event.preventDefault();
  const form = $('adjust-form');
  const pointsInput = $('adjust-points');
  const reasonInput = $('adjust-reason');
  const answer = clear($('adjust-answer'));
  markFields(form, null);
  const reason = reasonInput.value.trim();
  const pts = pointsInput.value.trim();
  fieldError(pointsInput, $('adjust-points-error'), pts ? '' : 'Enter the points to add (or, negative, to take away).');
  fieldError(reasonInput, $('adjust-reason-error'), reason ? '' : 'A reason is required: it is kept with the adjustment.');
  if (!reason || !pts) {
    (pts ? reasonInput : pointsInput).focus();
    return;
  }
  const body = { adjustment_id: $('adjust-id').value.trim(), points: numberOrText(pts), reason };
  const note = $('adjust-note').value.trim();
  if (note) body.note = note;
  const r = await sendWrite({
    form,
    button: $('adjust-submit'),
    answer,
    loading: 'Sending the adjustment…',
    route: `/v1/members/${encodeURIComponent(state.memberId)}/adjustments`,
    json: body,
  });
  if (!r) return;
  const adjusted = `Adjusted ${fmtSigned(r.data?.points?.adjusted ?? body.points)} ${r.data?.unit ?? ''}`;
  if (r.stale) {
    answer.append(outcomeBox(r, `${adjusted} for member ${r.stale}, no longer shown`));
    return;
  }
  answer.append(outcomeBox(r, `${adjusted} for ${state.member?.name || state.memberId}`));
  pointsInput.value = '';
  reasonInput.value = '';
  $('adjust-note').value = '';
  newAdjustmentId();
  refreshMember();
}

async function submitCancel(event) {
  event.preventDefault();
  const input = $('cancel-id');
  const reasonInput = $('cancel-reason');
  const answer = clear($('cancel-answer'));
  const id = input.value.trim();
  const reason = reasonInput.value.trim();
  fieldError(input, $('cancel-id-error'), id ? '' : 'Enter the redemption id to cancel.');
  fieldError(reasonInput, $('cancel-reason-error'), reason ? '' : 'A reason is required: it is kept in the audit log.');
  if (!id || !reason) {
    (id ? reasonInput : input).focus();
    return;
  }
  // The member on screen goes with it: a redemption of another member is not found, so an id
  // typed here never cancels someone else's.
  const r = await sendWrite({
    form: $('cancel-form'),
    button: $('cancel-submit'),
    answer,
    loading: `Cancelling ${id}…`,
    route: `/v1/redemptions/${encodeURIComponent(id)}/cancel`,
    json: { member_id: state.memberId, reason },
  });
  if (!r) return;
  const cancelled = `Cancelled ${id}: ${fmtInt(r.data?.points?.restored ?? 0)} ${r.data?.unit ?? ''} restored`;
  if (r.stale) {
    answer.append(outcomeBox(r, `${cancelled} for member ${r.stale}, no longer shown`));
    return;
  }
  answer.append(outcomeBox(r, `${cancelled} for ${state.member?.name || state.memberId}`));
  input.value = '';
  reasonInput.value = '';
  refreshMember();
}

// After a write: the member and the first activity page again, keeping the answers shown.
async function refreshMember() {
  const id = state.memberId;
  if (!id) return;
  const r = await api('GET', `/v1/members/${encodeURIComponent(id)}`);
  if (!r.ok || id !== state.memberId) return;
  renderMember(r.data);
  if (can('activity')) {
    state.activity = { cursors: [null], page: 0 };
    loadActivity(0);
  }
  if (can('vouchers')) loadPastVouchers();
  if (can('tiers')) loadTierHistory();
  if (can('audit')) loadAudit();
}

// ---------------------------------------------------------------------------------------------
// The program.

function setProgram(program) {
  if (!program) return;
  state.program = program;
  // The summary names the currency: "Name (id, USD, America/New_York): …".
  const match = /\(([^,()]*), ([A-Z]{3}), ([^()]*)\)/.exec(program.summary || '');
  state.currency = match ? match[2] : state.currency;
  state.zone = match ? match[3] : state.zone;
  if (state.currency && !$('sim-currency').value) $('sim-currency').value = state.currency;
}

// GET `route`, showing its progress and any problem in the node `statusId`: the answer, or null
// when it failed.
async function readShown(route, statusId, loading) {
  const status = $(statusId);
  setStatus(status, loading, 'loading');
  const r = await api('GET', route);
  if (!r.ok) {
    showProblem(status, r);
    return null;
  }
  setStatus(status, '');
  return r;
}

async function loadProgram() {
  const r = await readShown('/v1/program', 'active-status', 'Loading the active program…');
  if (!r) return;
  setProgram(r.data);
  const p = r.data;
  const facts = clear($('active-facts'));
  const add = (term, ...value) => facts.append(el('dt', { text: term }), el('dd', {}, ...value));
  add('Name', p.name);
  add('Program id', el('code', { text: p.program_id }));
  add('Version', `#${p.id}`);
  add('Activated', timeEl(p.activated_at));
  add('Content hash', el('code', { class: 'hash', text: p.content_hash }));
  add('Summary', p.summary);
  const notes = programNotes(p.notes, { linked: false });
  if (notes) add('Closed today', notes);
  $('active-source').textContent = p.source ?? '';
  if (!$('editor').value) {
    $('editor').value = p.source ?? '';
    renderGutter();
  }
  if (can('versions')) loadVersions();
}

// The activations, newest first, 50 at a time; an older version opens in the editor, where an
// admin can check it and activate it again (a rollback). `older` appends the page after the last
// one shown; otherwise the list starts again from the newest.
async function loadVersions(older = false) {
  const cursor = older ? state.versionsCursor : null;
  if (older && !cursor) return;
  const more = $('versions-more');
  more.hidden = true;
  const query = pageQuery(50, cursor);
  const r = await readShown(`/v1/program/versions?${query}`, 'versions-status', 'Loading the activations…');
  if (!r) return;
  // After the answer: of two loads, the last one shows.
  const list = older ? $('version-rows') : clear($('version-rows'));
  state.versionsCursor = r.data?.next_cursor ?? null;
  more.hidden = !state.versionsCursor;
  for (const a of Array.isArray(r.data?.activations) ? r.data.activations : []) {
    list.append(
      el(
        'li',
        { class: 'activation', 'data-version': String(a.version_id ?? ''), 'data-active': String(Boolean(a.active)) },
        el('span', {}, el('strong', { text: a.name ?? '' }), ` #${a.version_id}`, a.active ? el('span', { class: 'badge', text: 'active' }) : ''),
        el('span', { class: 'hint' }, timeEl(a.at), ' · by ', ...actorParts(a)),
        a.active
          ? ''
          : el('button', {
              type: 'button',
              class: 'secondary small',
              text: 'Open in the editor',
              'aria-label': `Open version #${a.version_id} in the editor`,
              onclick: () => openVersion(a.version_id),
            }),
      ),
    );
  }
}

async function openVersion(id) {
  const status = $('versions-status');
  const r = await api('GET', `/v1/program/versions/${encodeURIComponent(id)}`);
  if (!r.ok) {
    showProblem(status, r);
    return;
  }
  $('editor').value = r.data?.source ?? '';
  state.errorLines = new Map();
  renderGutter();
  $('editor-section').scrollIntoView({ block: 'nearest' });
  $('editor').focus();
}

function programType(text) {
  return /^\s*[{[]/.test(text) ? 'application/json' : 'application/yaml';
}

function renderGutter() {
  const editor = $('editor');
  const gutter = clear($('gutter'));
  const lines = editor.value.split('\n').length;
  const frag = document.createDocumentFragment();
  for (let i = 1; i <= lines; i++) {
    const messages = state.errorLines.get(i);
    frag.append(el('span', { class: messages ? 'ln bad' : 'ln', title: messages ? messages.join('\n') : null, text: String(i) }));
  }
  gutter.append(frag);
  gutter.scrollTop = editor.scrollTop;
}

// Selects a line (and column) of the editor and scrolls it into view.
function goToLine(line, column) {
  const editor = $('editor');
  const lines = editor.value.split('\n');
  const index = Math.min(Math.max(line, 1), lines.length) - 1;
  let start = 0;
  for (let i = 0; i < index; i++) start += lines[i].length + 1;
  const end = start + lines[index].length;
  const at = column > 0 ? Math.min(start + column - 1, end) : start;
  editor.focus();
  editor.setSelectionRange(at, end);
  scrollToLine(index + 1);
}

// Scrolls the editor (and its gutter) so that a line shows, a few lines from the top.
function scrollToLine(line) {
  const editor = $('editor');
  const lineHeight = parseFloat(getComputedStyle(editor).lineHeight) || 20;
  editor.scrollTop = Math.max(0, (line - 4) * lineHeight);
  $('gutter').scrollTop = editor.scrollTop;
}

function programErrors(r, text) {
  const p = r.problem || {};
  const errors = Array.isArray(p.errors) ? p.errors : [];
  const lines = text.split('\n');
  state.errorLines = new Map();
  for (const e of errors) {
    if (e.line > 0) {
      const list = state.errorLines.get(e.line) ?? [];
      list.push(e.message);
      state.errorLines.set(e.line, list);
    }
  }
  renderGutter();
  const first = errors.find((e) => e.line > 0);
  if (first) scrollToLine(first.line);
  const box = problemBox(r);
  box.classList.add('program-errors');
  const list = el('ol', { class: 'error-list', id: 'program-error-list' });
  for (const e of errors) {
    const where = e.line > 0 ? `Line ${e.line}${e.column > 0 ? `, column ${e.column}` : ''}` : 'The whole file';
    const item = el('li', { class: 'program-error', 'data-line': String(e.line ?? 0) });
    const head = el('p', {});
    if (e.line > 0) {
      head.append(el('button', { type: 'button', class: 'link', text: where, onclick: () => goToLine(e.line, e.column) }));
    } else head.append(el('strong', { text: where }));
    if (e.path) head.append(' ', el('code', { text: e.path }));
    item.append(head, el('p', { class: 'problem-detail', text: e.message }));
    if (e.line > 0 && e.line <= lines.length) {
      const number = String(e.line);
      const pad = ' '.repeat(number.length);
      const source = lines[e.line - 1].replace(/\t/g, ' ');
      const caret = e.column > 0 ? `\n${pad} | ${' '.repeat(e.column - 1)}^` : '';
      item.append(el('pre', { class: 'excerpt', text: `${number} | ${source}${caret}` }));
    }
    list.append(item);
  }
  box.append(list);
  return box;
}

// Earn rules and rewards whose window is closed now: the program is valid, but they earn or
// can be redeemed only outside today (the server's `notes`). Null when there are none. The
// editor's own text gets its lines as links; the active program's, which the editor may not
// hold, as text.
function programNotes(notes, { linked = true } = {}) {
  if (!Array.isArray(notes) || notes.length === 0) return null;
  const list = el('ul', { class: 'note-list' });
  for (const n of notes) {
    const head = el('p', {});
    const where = `Line ${n.line}, column ${n.column}`;
    if (n.line > 0 && linked) {
      head.append(el('button', { type: 'button', class: 'link', text: where, onclick: () => goToLine(n.line, n.column) }));
    } else if (n.line > 0) {
      head.append(el('span', { text: where }));
    }
    if (n.path) head.append(' ', el('code', { text: n.path }));
    list.append(el('li', { class: 'program-note', 'data-line': String(n.line ?? 0) }, head, el('p', { text: n.message })));
  }
  return el('div', { class: 'program-notes' }, linked ? el('p', { class: 'hint', text: 'Valid, but closed today:' }) : null, list);
}

async function checkProgram() {
  const text = $('editor').value;
  const answer = clear($('program-answer'));
  $('activate-confirm').hidden = true;
  const button = $('check-submit');
  setBusy(button, true);
  answer.append(el('p', { class: 'status loading', text: 'Checking…' }));
  const r = await api('POST', '/v1/program/check', { body: text, type: programType(text) });
  setBusy(button, false);
  clear(answer);
  if (r.ok) {
    state.errorLines = new Map();
    renderGutter();
    const same = state.program && r.data?.content_hash === state.program.content_hash;
    answer.append(
      el(
        'div',
        { class: 'answer ok' },
        el('p', { class: 'answer-head' }, el('strong', { text: 'The program is valid.' }), ' ', el('span', { class: 'meta', text: `(${statusLine(r)})` })),
        el('p', { text: r.data?.summary ?? '' }),
        programNotes(r.data?.notes),
        el('p', { class: 'hint' }, 'Content hash ', el('code', { text: String(r.data?.content_hash ?? '').slice(0, 12) }), same ? ': the same as the active program.' : ': not the active program.'),
        rawJson(r.data),
      ),
    );
    return;
  }
  answer.append(Array.isArray(r.problem?.errors) ? programErrors(r, text) : problemBox(r));
}

async function activateProgram() {
  const text = $('editor').value;
  const answer = clear($('program-answer'));
  $('activate-confirm').hidden = true;
  const button = $('activate-submit');
  setBusy(button, true);
  answer.append(el('p', { class: 'status loading', text: 'Activating…' }));
  const r = await api('POST', '/v1/program/versions', { body: text, type: programType(text) });
  setBusy(button, false);
  clear(answer);
  if (!r.ok) {
    answer.append(Array.isArray(r.problem?.errors) ? programErrors(r, text) : problemBox(r));
    return;
  }
  state.errorLines = new Map();
  renderGutter();
  const v = r.data || {};
  answer.append(
    el(
      'div',
      { class: 'answer ok' },
      el('p', { class: 'answer-head' }, el('strong', { text: `Activated version #${v.id}: ${v.name}` }), ' ', el('span', { class: 'meta', text: `(${statusLine(r)})` })),
      el('p', { text: v.summary ?? '' }),
      programNotes(v.notes),
      el('p', { class: 'hint' }, 'Content hash ', el('code', { text: String(v.content_hash ?? '').slice(0, 12) }), ', active since ', timeEl(v.activated_at), '.'),
      rawJson(v),
    ),
  );
  loadProgram();
}

// ---------------------------------------------------------------------------------------------
// Simulation.

let lineCounter = 0;

function addLine(values = {}) {
  lineCounter++;
  const body = $('sim-lines');
  // data-label names the column where a phone shows the line as a block (app.css).
  const cell = (name, value, attrs = {}) =>
    el(
      'td',
      { 'data-label': attrs['aria-label'] },
      el('input', { 'data-name': name, value: value ?? '', autocomplete: 'off', spellcheck: 'false', ...attrs }),
    );
  const row = el(
    'tr',
    { class: 'line' },
    cell('line_id', values.line_id ?? String(lineCounter), { 'aria-label': 'Line id', class: 'short' }),
    cell('category', values.category, { 'aria-label': 'Category' }),
    cell('sku', values.sku, { 'aria-label': 'SKU' }),
    cell('quantity', values.quantity ?? '1', { 'aria-label': 'Quantity', inputmode: 'numeric', class: 'short' }),
    cell('unit_price', values.unit_price ?? '', { 'aria-label': 'Unit price (minor units)', inputmode: 'numeric' }),
    cell('discount', values.discount ?? '', { 'aria-label': 'Discount (minor units)', inputmode: 'numeric', class: 'short' }),
    cell('tags', values.tags ?? '', { 'aria-label': 'Tags, comma-separated' }),
  );
  row.append(
    el(
      'td',
      { class: 'remove' },
      el('button', {
        type: 'button',
        class: 'secondary small',
        'aria-label': 'Remove this line',
        text: '✕',
        onclick: () => {
          const next = row.nextElementSibling || row.previousElementSibling;
          row.remove();
          renumberLines();
          (next?.querySelector('input') ?? $('sim-add-line')).focus();
        },
      }),
    ),
  );
  body.append(row);
  renumberLines();
  return row;
}

// Each input names its field as the API does (lines[0].unit_price), so errors find it.
function renumberLines() {
  const rows = $('sim-lines').children;
  for (let i = 0; i < rows.length; i++) {
    for (const input of rows[i].querySelectorAll('input[data-name]')) {
      input.dataset.field = `lines[${i}].${input.dataset.name}`;
      const base = input.getAttribute('aria-label').replace(/^Line \d+ /, '');
      input.setAttribute('aria-label', `Line ${i + 1} ${base}`);
    }
  }
}

function purchaseFromForm() {
  const purchase = {
    transaction_id: `sim-${Date.now().toString(36)}`,
    member_id: $('sim-member').value.trim(),
    store_id: $('sim-store').value.trim(),
    occurred_at: $('sim-at').value.trim(),
    currency: $('sim-currency').value.trim(),
    lines: [],
  };
  const channel = $('sim-channel').value;
  if (channel) purchase.channel = channel;
  for (const key of ['member_id', 'store_id', 'occurred_at', 'currency']) {
    if (!purchase[key]) delete purchase[key]; // absent: the server names what is missing
  }
  for (const row of $('sim-lines').children) {
    const line = {};
    for (const input of row.querySelectorAll('input[data-name]')) {
      const name = input.dataset.name;
      const value = input.value.trim();
      if (!value) continue;
      if (name === 'tags') line.tags = value.split(',').map((t) => t.trim()).filter(Boolean);
      else if (['quantity', 'unit_price', 'discount'].includes(name)) line[name] = numberOrText(value);
      else line[name] = value;
    }
    purchase.lines.push(line);
  }
  return purchase;
}

async function submitSimulation(event) {
  event.preventDefault();
  const form = $('simulate-form');
  const answer = clear($('simulate-answer'));
  markFields(form, null);
  const purchase = purchaseFromForm();
  const button = $('simulate-submit');
  setBusy(button, true);
  answer.append(el('p', { class: 'status loading', text: 'Simulating…' }));
  const r = await api('POST', '/v1/simulate', { json: purchase });
  setBusy(button, false);
  clear(answer);
  if (!r.ok) {
    answer.append(problemBox(r));
    markFields(form, r)?.focus();
    return;
  }
  const o = r.data || {};
  const unit = o.unit || 'points';
  const earned = o.points?.earned ?? 0;
  const pending = o.points?.pending ?? 0;
  const headline = `Would earn ${fmtInt(earned)} ${unit}${pending ? ` (${fmtInt(pending)} pending at first)` : ''}`;
  answer.append(outcomeBox(r, headline));
}

function nowText() {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

// ---------------------------------------------------------------------------------------------
// Start.

function init() {
  $('signin-form').addEventListener('submit', (event) => {
    event.preventDefault();
    // Empty: the saved key again, when checking it failed for want of an answer.
    const key = $('api-key').value.trim() || sessionStorage.getItem(KEY_STORAGE) || '';
    if (!key) {
      setStatus($('signin-status'), 'Enter an API key.', 'error');
      $('api-key').focus();
      return;
    }
    signIn(key);
  });
  $('sign-out').addEventListener('click', () => signOut());
  window.addEventListener('hashchange', route);

  $('lookup-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const id = $('lookup-id').value.trim();
    if (!id) {
      setStatus($('lookup-status'), 'Enter a member id.', 'error');
      $('lookup-id').focus();
      return;
    }
    const hash = `#members/${encodeURIComponent(id)}`;
    if (location.hash !== hash) history.pushState(null, '', hash);
    lookUp(id);
  });
  $('activity-newer').addEventListener('click', () => loadActivity(Math.max(0, state.activity.page - 1)));
  $('activity-older').addEventListener('click', () => loadActivity(state.activity.page + 1));
  $('audit-more').addEventListener('click', () => loadAudit(true));
  $('versions-more').addEventListener('click', () => loadVersions(true));
  $('adjust-form').addEventListener('submit', submitAdjustment);
  $('cancel-form').addEventListener('submit', submitCancel);
  $('profile-form').addEventListener('submit', submitProfile);

  const editor = $('editor');
  editor.addEventListener('input', renderGutter);
  editor.addEventListener('scroll', () => {
    $('gutter').scrollTop = editor.scrollTop;
  });
  editor.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      checkProgram();
    }
  });
  $('check-submit').addEventListener('click', checkProgram);
  $('activate-submit').addEventListener('click', () => {
    $('activate-confirm').hidden = false;
    $('activate-no').focus();
  });
  $('activate-yes').addEventListener('click', activateProgram);
  $('activate-no').addEventListener('click', () => {
    $('activate-confirm').hidden = true;
    $('activate-submit').focus();
  });
  $('editor-reset').addEventListener('click', () => {
    editor.value = state.program?.source ?? '';
    state.errorLines = new Map();
    clear($('program-answer'));
    renderGutter();
    editor.focus();
  });
  $('edit-active').addEventListener('click', () => {
    editor.value = state.program?.source ?? $('active-source').textContent;
    state.errorLines = new Map();
    renderGutter();
    editor.focus();
  });

  $('simulate-form').addEventListener('submit', submitSimulation);
  $('sim-add-line').addEventListener('click', () => addLine().querySelector('input[data-name="category"]').focus());
  $('sim-store').value = 's-1';
  $('sim-at').value = nowText();
  addLine({ category: 'coffee', sku: 'LATTE-L', quantity: '2', unit_price: '525' });
  addLine({ category: 'bakery', sku: 'CROISSANT', quantity: '1', unit_price: '350' });
  renderGutter();

  const saved = sessionStorage.getItem(KEY_STORAGE);
  if (saved) signIn(saved, { restoring: true });
  else {
    showSignIn();
    $('api-key').focus();
  }
}

init();
