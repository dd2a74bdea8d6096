// SPDX-License-Identifier: MIT
// The back office: members (look-up and erasure with a typed confirmation; admin), offers (list,
// create and edit with a live count and sample of the members targeted, end; changes need an
// admin), and the print queue with reprint (manager).
// The server decides what each role may do; these screens only leave out what it would refuse.
import { strings as S } from './strings.js';
import { call } from './api.js';
import { h, clear, field, message, ready } from './dom.js';
import { num, dateTime } from './fmt.js';
import { chartOf } from './charts.js';

export function membersScreen(main) {
  const card = field(S.memberLookup, { id: 'member-card', autocomplete: 'off', required: true, minlength: 2, maxlength: 32 });
  const results = h('div', { class: 'results' });
  const msg = message();
  const out = h('div', { class: 'profile', 'aria-live': 'polite' });
  const find = h('form', {}, card.wrap, h('button', { type: 'submit' }, S.memberFind));
  find.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.clear();
    clear(out);
    clear(results);
    try {
      const res = await call('GET', `/v1/members?q=${encodeURIComponent(card.input.value.trim())}`);
      const found = res.members || [];
      if (found.length === 1) { profile(found[0].card); return; }
      if (!found.length) { msg.fail(S.memberNone); return; }
      clear(results, h('ul', { class: 'list' }, found.map((m) => h('li', {},
        h('button', { type: 'button', onclick: () => profile(m.card) }, S.memberPick(m.name, m.card))))));
    } catch (e) { msg.fail(e.message); }
  });
  async function profile(number) {
    clear(out);
    try {
      const m = await call('GET', `/v1/members/${encodeURIComponent(number)}`);
      const confirmWord = field(S.memberEraseConfirm(m.name), { autocomplete: 'off', id: 'erase-confirm' });
      const erase = h('form', { class: 'danger' }, confirmWord.wrap,
        h('button', { type: 'submit', class: 'danger' }, S.memberErase));
      erase.addEventListener('submit', async (e2) => {
        e2.preventDefault();
        if (confirmWord.input.value.trim() !== S.memberEraseWord) { confirmWord.input.focus(); return; }
        try {
          await call('POST', `/v1/members/${encodeURIComponent(m.card)}/erase`, undefined, { idempotent: true });
          clear(out);
          msg.ok(S.memberErased);
        } catch (e) { msg.fail(e.message); }
      });
      const exp = await call('GET', `/v1/members/${encodeURIComponent(m.card)}/export`);
      const consentMsg = message();
      const consent = h('button', { type: 'button', onclick: async () => {
        try {
          await call('POST', `/v1/members/${encodeURIComponent(m.card)}/consent`,
            { marketing: !m.consent_marketing, source: 'back office' }, { idempotent: true });
          consentMsg.ok(m.consent_marketing ? S.consentWithdrawn : S.consentGiven);
          profile(m.card);
        } catch (e) { consentMsg.fail(e.message); }
      } }, m.consent_marketing ? S.consentWithdraw : S.consentGive);
      const download = h('button', { type: 'button', onclick: () => {
        const link = h('a', { href: URL.createObjectURL(new Blob([JSON.stringify(exp, null, 2)], { type: 'application/json' })), download: `member-${m.card}.json` });
        document.body.append(link);
        link.click();
        link.remove();
      } }, S.memberExport);
      const table = (caption, cols, rows) => h('table', {}, h('caption', {}, caption),
        h('thead', {}, h('tr', {}, cols.map(([label]) => h('th', { scope: 'col' }, label)))),
        h('tbody', {}, rows.map((r) => h('tr', {}, cols.map(([, f]) => h('td', {}, f(r)))))));
      clear(out, h('h2', {}, m.name),
        h('dl', { class: 'facts' }, h('dt', {}, S.card), h('dd', {}, m.card),
          h('dt', {}, S.points), h('dd', {}, num(m.points)), h('dt', {}, S.tier), h('dd', {}, m.tier),
          h('dt', {}, S.consentNow), h('dd', {}, m.consent_marketing ? S.yes : S.no)),
        h('div', { class: 'row' }, consent, download), consentMsg.el,
        table(S.consentHistory, [[S.thWhen, (c) => dateTime(c.changed_at)], [S.thConsent, (c) => (c.marketing ? S.yes : S.no)],
          [S.thBy, (c) => c.changed_by || ''], [S.thSource, (c) => c.source || '']], exp.consent_changes || []),
        table(S.history, [[S.thWhen, (e) => dateTime(e.created_at)], [S.thKind, (e) => e.kind], [S.points, (e) => num(e.points)],
          [S.thNote, (e) => e.note || '']], (exp.entries || []).slice(-20).reverse()),
        erase);
    } catch (e) { msg.fail(e.message); }
  }
  clear(main, h('section', { class: 'panel', 'aria-labelledby': 'members-title' },
    h('h1', { id: 'members-title' }, S.membersTitle), find, msg.el, results, out));
  card.input.focus();
  ready();
}

// The targeting fields of an offer, by the names of the offer's JSON; `kind` says how to read them.
const TARGETS = [['tier', 'text'], ['segment', 'text'], ['category', 'text'], ['within_days', 'int'],
  ['lapsed_days', 'int'], ['first_visit', 'bool'], ['birthday_month', 'bool']];
// What an edit carries over from the offer it replaces without a field on the form.
const CARRIED = ['min_basket', 'sku', 'basket_category', 'limit_per_member', 'limit_total', 'limit_per_day', 'to'];

function targetFields() {
  const f = {
    tier: field(S.offerTier, { autocomplete: 'off', id: 'offer-tier' }),
    segment: field(S.offerSegment, { autocomplete: 'off', id: 'offer-segment' }),
    category: field(S.offerCategory, { autocomplete: 'off', id: 'offer-category' }),
    within_days: field(S.offerWithinDays, { type: 'number', min: 1, max: 3650, id: 'offer-within-days' }),
    lapsed_days: field(S.offerLapsedDays, { type: 'number', min: 1, max: 3650, id: 'offer-lapsed-days' }),
  };
  for (const [k, label] of [['first_visit', S.offerFirstVisit], ['birthday_month', S.offerBirthday]]) {
    const id = `offer-${k.replace('_', '-')}`;
    const input = h('input', { type: 'checkbox', id });
    f[k] = { input, wrap: h('div', { class: 'check' }, input, h('label', { for: id }, label)) };
  }
  return f;
}

function readTargets(f) {
  const body = {};
  for (const [k, kind] of TARGETS) {
    const el = f[k].input;
    if (kind === 'bool') { if (el.checked) body[k] = true; continue; }
    const v = el.value.trim();
    if (v) body[k] = kind === 'int' ? Number(v) : v;
  }
  return body;
}

// The live count and sample of the members the targets reach, asked of the server (the scan's
// own test) a moment after the fields stop changing; a late answer to older fields is dropped.
function audienceBox(f) {
  const out = h('div', { class: 'audience', id: 'offer-audience', 'aria-live': 'polite' });
  let timer = null;
  let seq = 0;
  async function ask() {
    const mine = ++seq;
    try {
      const a = await call('POST', '/v1/offers/audience', readTargets(f));
      if (mine !== seq) return;
      clear(out, h('p', { class: 'count' }, S.offerAudience(num(a.count), num(a.members))),
        a.sample.length ? h('ul', { class: 'sample', 'aria-label': S.offerAudienceSample },
          a.sample.map((m) => h('li', {}, S.memberPick(m.name, m.card)))) : null,
        a.count > a.sample.length && a.sample.length ? h('p', { class: 'help' }, S.offerAudienceMore(num(a.count - a.sample.length))) : null);
      out.dataset.count = String(a.count);
    } catch (e) {
      if (mine !== seq) return;
      clear(out, h('p', { class: 'msg fail' }, e.message));
      delete out.dataset.count;
    }
  }
  const later = () => { clearTimeout(timer); timer = setTimeout(ask, 250); };
  for (const [k] of TARGETS) {
    f[k].input.addEventListener('input', later);
    f[k].input.addEventListener('change', later);
  }
  return { el: out, ask };
}

export function offersScreen(main, session) {
  const msg = message();
  const list = h('div', { 'aria-live': 'polite' });
  const admin = session.role === 'admin';
  let editing = null; // the offer the form replaces, when editing
  let form = null;
  async function load() {
    try {
      const res = await call('GET', '/v1/offers');
      const offers = res.offers || [];
      clear(list, h('h2', {}, S.offerList), h('ul', { class: 'list' }, offers.map((o) => h('li', { 'data-offer': o.offer_id },
        h('strong', {}, o.name), ' ', h('span', {}, o.benefit || ''), ' ', h('span', { class: 'muted' }, S.offerUses(num(o.uses || 0))),
        admin ? h('span', { class: 'actions' }, h('button', { type: 'button', onclick: () => form.edit(o) }, S.offerEdit(o.name)), ' ',
          h('button', { type: 'button', class: 'danger', onclick: async () => {
            try { await call('POST', `/v1/offers/${o.offer_id}/end`, undefined, { idempotent: true }); msg.ok(S.offerEnded); load(); } catch (e) { msg.fail(e.message); }
          } }, S.offerEnd(o.name))) : null))));
    } catch (e) { msg.fail(e.message); }
  }
  if (admin) form = offerForm(msg, load, (o) => { editing = o; }, () => editing);
  clear(main, h('section', { class: 'panel', 'aria-labelledby': 'offers-title' },
    h('h1', { id: 'offers-title' }, S.offersTitle), form ? form.el : null, msg.el, list));
  Promise.all([load(), form ? form.audience.ask() : null]).then(() => { ready(); });
}

function offerForm(msg, reload, setEditing, getEditing) {
  const name = field(S.offerName, { required: true, autocomplete: 'off', id: 'offer-name' });
  const benefit = field(S.offerBenefit, { required: true, autocomplete: 'off', id: 'offer-benefit' });
  const t = targetFields();
  const audience = audienceBox(t);
  const excl = h('input', { type: 'checkbox', id: 'offer-exclusive' });
  const heading = h('h2', { id: 'offer-form-title' }, S.offerNew);
  const submit = h('button', { type: 'submit', class: 'primary' }, S.offerCreate);
  const cancel = h('button', { type: 'button', hidden: true, onclick: () => reset() }, S.offerEditCancel);
  const el = h('form', { class: 'offer-form', 'aria-labelledby': 'offer-form-title' }, heading,
    h('div', { class: 'cols' },
      h('fieldset', {}, h('legend', {}, S.offerWhat), name.wrap, benefit.wrap,
        h('div', { class: 'check' }, excl, h('label', { for: 'offer-exclusive' }, S.offerExclusiveLabel))),
      h('fieldset', {}, h('legend', {}, S.offerWho), t.tier.wrap, t.segment.wrap, t.category.wrap, t.within_days.wrap,
        t.lapsed_days.wrap, t.first_visit.wrap, t.birthday_month.wrap),
      h('div', { class: 'audience-wrap' }, h('h3', {}, S.offerAudienceTitle), audience.el)),
    h('div', { class: 'row' }, submit, cancel));
  function reset() {
    setEditing(null);
    el.reset();
    heading.textContent = S.offerNew;
    submit.textContent = S.offerCreate;
    cancel.hidden = true;
    audience.ask();
  }
  function edit(o) {
    setEditing(o);
    name.input.value = o.name;
    benefit.input.value = o.benefit || '';
    excl.checked = !!o.exclusive;
    for (const [k, kind] of TARGETS) {
      if (kind === 'bool') t[k].input.checked = !!o[k];
      else t[k].input.value = o[k] ?? '';
    }
    heading.textContent = S.offerEditing(o.name);
    submit.textContent = S.offerSave;
    cancel.hidden = false;
    audience.ask();
    name.input.focus();
  }
  el.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.clear();
    const old = getEditing();
    const body = { name: name.input.value.trim(), benefit: benefit.input.value.trim(), exclusive: excl.checked, ...readTargets(t) };
    if (old) for (const k of CARRIED) if (old[k] !== undefined && old[k] !== null) body[k] = old[k];
    try {
      // An offer is never changed in place (its uses and coupons name it): an edit adds the
      // new version and ends the old one.
      await call('POST', '/v1/offers', body, { idempotent: true });
      if (old) await call('POST', `/v1/offers/${old.offer_id}/end`, undefined, { idempotent: true });
      msg.ok(old ? S.offerChanged(old.name) : S.offerCreated);
      reset();
      reload();
    } catch (e) { msg.fail(e.message); }
  });
  return { el, audience, edit };
}

export function printsScreen(main) {
  const msg = message();
  const table = h('div', { 'aria-live': 'polite' });
  async function load() {
    try {
      const res = await call('GET', '/v1/print-jobs');
      const jobs = res.jobs || [];
      if (!jobs.length) { clear(table, h('p', {}, S.noPrints)); return; }
      clear(table, h('table', {}, h('thead', {}, h('tr', {}, [S.thId, S.thTemplate, S.thStatus, S.thCreated, S.thAction].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, jobs.map((j) => h('tr', {}, h('td', {}, num(j.job_id)), h('td', {}, j.template || j.template_name || ''),
          h('td', {}, S.printStatuses[j.status] || j.status), h('td', {}, j.created_at ? dateTime(j.created_at) : ''),
          h('td', {}, h('button', { type: 'button', onclick: async () => {
            try {
              const r = await call('POST', `/v1/print-jobs/${j.job_id}/reprint`, undefined, { idempotent: true });
              msg.ok(S.printReprinted(r.job_id)); load();
            } catch (e) { msg.fail(e.message); }
          } }, S.printReprint(j.job_id))))))));
    } catch (e) { msg.fail(e.message); }
  }
  clear(main, h('section', { class: 'panel', 'aria-labelledby': 'prints-title' },
    h('h1', { id: 'prints-title' }, S.printsTitle), msg.el, table));
  load().then(() => { ready(); });
}

const REPORTS = ['liability', 'expiring', 'redemption', 'repeat', 'retention', 'clv', 'rfm', 'churn',
  'offers', 'partners', 'satisfaction'];

// A report: its chart drawn on the page from the JSON (charts.js) where it has one, its table,
// and a link to the same report as CSV.
export function reportsScreen(main) {
  const msg = message();
  const out = h('div', { class: 'report', 'aria-live': 'polite' });
  const select = h('select', { id: 'report-name' }, REPORTS.map((r) => h('option', { value: r }, S.reportNames[r] || r)));
  const form = h('form', { class: 'row' }, h('div', { class: 'field' }, h('label', { for: 'report-name' }, S.reportName), select),
    h('button', { type: 'submit', class: 'primary' }, S.reportShow));
  async function show() {
    msg.clear();
    const name = select.value;
    try {
      const t = await call('GET', `/v1/reports/${name}`);
      const cols = t.columns || [];
      const rows = t.rows || [];
      const cell = (v) => (typeof v === 'number' ? num(v) : (v ?? ''));
      clear(out, h('h2', {}, t.title || name),
        h('a', { href: `/v1/reports/${name}?format=csv`, download: `${name}.csv`, class: 'button' }, S.reportCsv),
        h('figure', { class: 'chart-wrap' }, chartOf(name, t)),
        rows.length ? h('table', {}, h('caption', {}, S.reportTable(t.title || name)), h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, rows.map((r) => h('tr', {}, cols.map((c) => h('td', {}, cell(r[c])))))))
          : h('p', {}, S.reportEmpty));
      document.body.dataset.report = name;
    } catch (e) { msg.fail(e.message); }
  }
  form.addEventListener('submit', (ev) => { ev.preventDefault(); show(); });
  clear(main, h('section', { class: 'panel', 'aria-labelledby': 'reports-title' },
    h('h1', { id: 'reports-title' }, S.reportsTitle), form, msg.el, out));
  show().then(ready);
}

export function tillsScreen(main) {
  const msg = message();
  const list = h('div', { 'aria-live': 'polite' });
  const shown = h('div', { class: 'token-once', 'aria-live': 'polite' });
  const showToken = (t) => clear(shown, h('p', {}, S.tillTokenOnce(t.name)), h('code', { id: 'till-new-token' }, t.token));
  async function load() {
    try {
      const res = await call('GET', '/v1/tills');
      clear(list, h('table', {}, h('thead', {}, h('tr', {}, [S.thTill, S.thRole, S.thAdded, S.thStatus, S.thAction].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, (res.tills || []).map((t) => h('tr', {}, h('td', {}, t.name), h('td', {}, t.role),
          h('td', {}, dateTime(t.created_at)), h('td', {}, t.revoked ? S.tillRevoked : S.tillActive),
          h('td', {}, t.revoked ? null : [
            h('button', { type: 'button', onclick: async () => {
              try { showToken(await call('POST', `/v1/tills/${encodeURIComponent(t.name)}/rotate`)); load(); } catch (e) { msg.fail(e.message); }
            } }, S.tillRotate(t.name)), ' ',
            h('button', { type: 'button', class: 'danger', onclick: async () => {
              try { await call('POST', `/v1/tills/${encodeURIComponent(t.name)}/revoke`); clear(shown); msg.ok(S.tillRevokedMsg(t.name)); load(); } catch (e) { msg.fail(e.message); }
            } }, S.tillRevoke(t.name))]))))));
    } catch (e) { msg.fail(e.message); }
  }
  const name = field(S.tillName, { required: true, autocomplete: 'off', id: 'till-name-new' });
  const role = h('select', { id: 'till-role' }, ['cashier', 'manager', 'admin'].map((r) => h('option', { value: r }, r)));
  const add = h('form', { class: 'row' }, name.wrap, h('div', { class: 'field' }, h('label', { for: 'till-role' }, S.tillRole), role),
    h('button', { type: 'submit', class: 'primary' }, S.tillAdd));
  add.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      showToken(await call('POST', '/v1/tills', { name: name.input.value.trim(), role: role.value }));
      name.input.value = '';
      load();
    } catch (e) { msg.fail(e.message); }
  });
  clear(main, h('section', { class: 'panel', 'aria-labelledby': 'tills-title' },
    h('h1', { id: 'tills-title' }, S.tillsTitle), add, msg.el, shown, list));
  load().then(ready);
}

// The program: its rules, tiers and rewards (a manager reads, an admin changes), and the audit of
// every change (who, when, old -> new) as the store records it.
const RULES = ['earn_points', 'earn_unit_minor', 'expiry_days', 'expiry_notice_days', 'refund_policy', 'point_value_minor_per_100'];

function dataTable(caption, cols, rows, id) {
  return h('table', { id }, h('caption', {}, caption),
    h('thead', {}, h('tr', {}, cols.map(([label]) => h('th', { scope: 'col' }, label)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, cols.map(([, f]) => h('td', {}, f(r)))))));
}

export function programScreen(main, session) {
  const admin = session.role === 'admin';
  const msg = message();
  const rulesOut = h('div', {});
  const tiersOut = h('div', {});
  const rewardsOut = h('div', {});
  const auditOut = h('div', { 'aria-live': 'polite' });
  let editing = null; // the reward the form changes
  const act = async (fn, done) => {
    msg.clear();
    try { await fn(); } catch (e) { msg.fail(e.message); return; }
    // the tables show the change before the sentence says it is done
    if (await load().then(() => true, (e) => { msg.fail(e.message); return false; })) msg.ok(done);
  };

  const ruleName = h('select', { id: 'rule-name' }, RULES.map((r) => h('option', { value: r }, S.ruleNames[r] || r)));
  const ruleValue = field(S.ruleValue, { autocomplete: 'off', required: true, id: 'rule-value' });
  const ruleForm = h('form', { class: 'row' }, h('div', { class: 'field' }, h('label', { for: 'rule-name' }, S.ruleName), ruleName),
    ruleValue.wrap, h('button', { type: 'submit', class: 'primary' }, S.ruleSet));
  ruleForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(() => call('POST', '/v1/program', { name: ruleName.value, value: ruleValue.input.value.trim() }), S.ruleChanged(S.ruleNames[ruleName.value]));
  });

  const tierName = field(S.tierName, { autocomplete: 'off', required: true, id: 'tier-name' });
  const tierThreshold = field(S.tierThreshold, { type: 'number', min: 0, required: true, id: 'tier-threshold' });
  const tierMult = field(S.tierMultiplier, { type: 'number', min: 0, max: 100000, required: true, id: 'tier-multiplier' });
  const tierForm = h('form', { class: 'row' }, tierName.wrap, tierThreshold.wrap, tierMult.wrap,
    h('button', { type: 'submit', class: 'primary' }, S.tierSave));
  tierForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(() => call('POST', '/v1/tiers', { name: tierName.input.value.trim(), threshold: Number(tierThreshold.input.value),
      multiplier_permille: Number(tierMult.input.value) }), S.tierSaved(tierName.input.value.trim()));
  });

  const rwName = field(S.rewardName, { autocomplete: 'off', required: true, id: 'reward-name' });
  const rwCost = field(S.rewardCostLabel, { type: 'number', min: 1, required: true, id: 'reward-cost' });
  const rwKind = h('select', { id: 'reward-kind' }, ['item', 'amount', 'percent', 'points'].map((k) => h('option', { value: k }, S.rewardKinds[k])));
  const rwValue = field(S.rewardValue, { type: 'number', min: 0, required: true, id: 'reward-value' });
  const rwDays = field(S.rewardDays, { type: 'number', min: 1, max: 2730, id: 'reward-days' });
  const rwSubmit = h('button', { type: 'submit', class: 'primary' }, S.rewardAdd);
  const rwCancel = h('button', { type: 'button', hidden: true, onclick: () => resetReward() }, S.offerEditCancel);
  const rwForm = h('form', { class: 'row' }, rwName.wrap, rwCost.wrap,
    h('div', { class: 'field' }, h('label', { for: 'reward-kind' }, S.rewardKind), rwKind), rwValue.wrap, rwDays.wrap, rwSubmit, rwCancel);
  function resetReward() {
    editing = null;
    rwForm.reset();
    rwSubmit.textContent = S.rewardAdd;
    rwCancel.hidden = true;
  }
  rwForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const body = { name: rwName.input.value.trim(), cost: Number(rwCost.input.value), kind: rwKind.value, value: Number(rwValue.input.value) };
    if (rwDays.input.value) body.valid_days = Number(rwDays.input.value);
    const old = editing;
    act(async () => {
      if (old) await call('POST', `/v1/rewards/${old.reward_id}`, body);
      else await call('POST', '/v1/rewards', body, { idempotent: true });
      resetReward();
    }, old ? S.rewardChanged(body.name) : S.rewardAdded(body.name));
  });
  function editReward(r) {
    editing = r;
    rwName.input.value = r.name;
    rwCost.input.value = r.cost;
    rwKind.value = r.kind;
    rwValue.input.value = r.value;
    rwDays.input.value = r.valid_days;
    rwSubmit.textContent = S.rewardSave(r.name);
    rwCancel.hidden = false;
    rwName.input.focus();
  }

  async function load() {
    const [p, rw, audit] = await Promise.all([call('GET', '/v1/program'), call('GET', '/v1/rewards'), call('GET', '/v1/rule-changes')]);
    clear(rulesOut, h('dl', { class: 'facts', id: 'rules' }, RULES.flatMap((r) => [h('dt', {}, S.ruleNames[r]),
      h('dd', { 'data-rule': r }, typeof p.rules[r] === 'number' ? num(p.rules[r]) : p.rules[r])])));
    clear(tiersOut, dataTable(S.tiersTitle, [[S.tierName, (t) => t.name], [S.tierThreshold, (t) => num(t.threshold)],
      [S.tierMultiplier, (t) => num(t.multiplier_permille)]], p.tiers, 'tiers'));
    clear(rewardsOut, dataTable(S.rewardsTitle, [[S.rewardName, (r) => r.name], [S.rewardCostLabel, (r) => num(r.cost)],
      [S.rewardKind, (r) => S.rewardKinds[r.kind] || r.kind], [S.rewardValue, (r) => num(r.value)], [S.rewardDays, (r) => num(r.valid_days)],
      ...(admin ? [[S.thAction, (r) => [h('button', { type: 'button', onclick: () => editReward(r) }, S.rewardEdit(r.name)), ' ',
        h('button', { type: 'button', class: 'danger', onclick: () => act(() => call('POST', `/v1/rewards/${r.reward_id}/end`, undefined, { idempotent: true }), S.rewardEnded(r.name)) },
          S.rewardEnd(r.name))]]] : [])], rw.rewards || [], 'rewards'));
    clear(auditOut, dataTable(S.auditTitle, [[S.thWhen, (c) => dateTime(c.changed_at)], [S.thBy, (c) => c.changed_by],
      [S.auditWhat, (c) => S.auditKey(c.key)], [S.auditOld, (c) => c.old_value ?? S.auditNew], [S.auditNewValue, (c) => c.new_value]],
    (audit.changes || []).slice(0, 30), 'rule-changes'));
  }
  clear(main, h('section', { class: 'panel', 'aria-labelledby': 'program-title' },
    h('h1', { id: 'program-title' }, S.programTitle), msg.el,
    h('div', { class: 'part' }, h('h2', {}, S.rulesTitle), rulesOut, admin ? ruleForm : null),
    h('div', { class: 'part' }, tiersOut, admin ? tierForm : null),
    h('div', { class: 'part' }, rewardsOut, admin ? rwForm : null),
    h('div', { class: 'part' }, auditOut)));
  load().catch((e) => msg.fail(e.message)).then(ready);
}

// The keyring: fingerprints and states (private keys never leave the server), and a rotation.
export function keysScreen(main) {
  const msg = message();
  const list = h('div', { 'aria-live': 'polite' });
  async function load() {
    const res = await call('GET', '/v1/keys');
    clear(list, dataTable(S.keysTitle, [[S.keyId, (k) => num(k.key_id)], [S.keyKind, (k) => S.keyKinds[k.kind] || k.kind],
      [S.thStatus, (k) => S.keyStatuses[k.status] || k.status], [S.keyFingerprint, (k) => h('code', {}, k.fingerprint)],
      [S.keyHolder, (k) => k.partner || ''], [S.thAdded, (k) => dateTime(k.created_at)],
      [S.keyRetired, (k) => (k.retired_at ? dateTime(k.retired_at) : '')]], res.keys || [], 'keys'));
  }
  const rotate = h('button', { type: 'button', class: 'primary', onclick: async () => {
    msg.clear();
    try {
      const r = await call('POST', '/v1/keys/rotate', undefined, { idempotent: true });
      msg.ok(S.keyRotated(num(r.key_id)));
      await load();
    } catch (e) { msg.fail(e.message); }
  } }, S.keyRotate);
  clear(main, h('section', { class: 'panel', 'aria-labelledby': 'keys-title' },
    h('h1', { id: 'keys-title' }, S.keysTitle), h('p', { class: 'help' }, S.keysHelp), rotate, msg.el, list));
  load().catch((e) => msg.fail(e.message)).then(ready);
}
