// SPDX-License-Identifier: MIT
// The back office: members (look-up and erasure with a typed confirmation; admin), offers (list,
// create and end; create and end need an admin), and the print queue with reprint (manager).
// The server decides what each role may do; these screens only leave out what it would refuse.
import { strings as S } from './strings.js';
import { call } from './api.js';
import { h, clear, field, message, ready } from './dom.js';
import { num, dateTime } from './fmt.js';

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

export function offersScreen(main, session) {
  const msg = message();
  const list = h('div', { 'aria-live': 'polite' });
  const admin = session.role === 'admin';
  async function load() {
    try {
      const res = await call('GET', '/v1/offers');
      const offers = res.offers || [];
      clear(list, h('h2', {}, S.offerList), h('ul', { class: 'list' }, offers.map((o) => h('li', { 'data-offer': o.offer_id },
        h('strong', {}, o.name), ' ', h('span', {}, o.benefit || ''),
        admin ? h('button', { type: 'button', onclick: async () => {
          try { await call('POST', `/v1/offers/${o.offer_id}/end`, undefined, { idempotent: true }); msg.ok(S.offerEnded); load(); } catch (e) { msg.fail(e.message); }
        } }, S.offerEnd(o.name)) : null))));
    } catch (e) { msg.fail(e.message); }
  }
  let create = null;
  if (admin) {
    const name = field(S.offerName, { required: true, autocomplete: 'off', id: 'offer-name' });
    const benefit = field(S.offerBenefit, { required: true, autocomplete: 'off', id: 'offer-benefit' });
    const tier = field(S.offerTier, { autocomplete: 'off', id: 'offer-tier' });
    const segment = field(S.offerSegment, { autocomplete: 'off', id: 'offer-segment' });
    const excl = h('input', { type: 'checkbox', id: 'offer-exclusive' });
    create = h('form', {}, name.wrap, benefit.wrap, tier.wrap, segment.wrap,
      h('div', { class: 'check' }, excl, h('label', { for: 'offer-exclusive' }, S.offerExclusiveLabel)),
      h('button', { type: 'submit', class: 'primary' }, S.offerCreate));
    create.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const body = { name: name.input.value.trim(), benefit: benefit.input.value.trim(), exclusive: excl.checked };
      if (tier.input.value.trim()) body.tier = tier.input.value.trim();
      if (segment.input.value.trim()) body.segment = segment.input.value.trim();
      try { await call('POST', '/v1/offers', body, { idempotent: true }); msg.ok(S.offerCreated); load(); } catch (e) { msg.fail(e.message); }
    });
  }
  clear(main, h('section', { class: 'panel', 'aria-labelledby': 'offers-title' },
    h('h1', { id: 'offers-title' }, S.offersTitle), create, msg.el, list));
  load().then(() => { ready(); });
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

const CHARTS = ['expiring', 'rfm', 'redemption', 'satisfaction', 'retention'];
const REPORTS = ['liability', 'expiring', 'redemption', 'repeat', 'retention', 'clv', 'rfm', 'churn',
  'offers', 'partners', 'satisfaction'];

export function reportsScreen(main) {
  const msg = message();
  const out = h('div', { class: 'report', 'aria-live': 'polite' });
  const select = h('select', { id: 'report-name' }, REPORTS.map((r) => h('option', { value: r }, S.reportNames[r] || r)));
  const csv = h('button', { type: 'button', id: 'report-csv' }, S.reportCsv);
  const form = h('form', { class: 'row' }, h('div', { class: 'field' }, h('label', { for: 'report-name' }, S.reportName), select),
    h('button', { type: 'submit', class: 'primary' }, S.reportShow), csv);
  async function show() {
    msg.clear();
    try {
      const t = await call('GET', `/v1/reports/${select.value}`);
      const cols = t.columns || [];
      const rows = t.rows || [];
      const chart = CHARTS.includes(select.value)
        ? h('img', { class: 'chart', src: `/v1/reports/${select.value}?format=svg`, alt: S.reportChart(t.title || select.value) })
        : null;
      clear(out, h('h2', {}, t.title || select.value), chart,
        rows.length ? h('table', {}, h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, rows.map((r) => h('tr', {}, cols.map((c) => h('td', {}, typeof r[c] === 'number' ? num(r[c]) : (r[c] ?? '')))))))
          : h('p', {}, S.reportEmpty));
    } catch (e) { msg.fail(e.message); }
  }
  form.addEventListener('submit', (ev) => { ev.preventDefault(); show(); });
  csv.addEventListener('click', async () => {
    msg.clear();
    try {
      const res = await fetch(`/v1/reports/${select.value}?format=csv`, { credentials: 'same-origin' });
      if (!res.ok) {
        const p = await res.json().catch(() => null);
        throw new Error((p && p.detail) || S.unexpected);
      }
      const link = h('a', { href: URL.createObjectURL(await res.blob()), download: `${select.value}.csv` });
      document.body.append(link);
      link.click();
      link.remove();
      msg.ok(S.reportDownloaded(`${select.value}.csv`));
    } catch (e) { msg.fail(e.message); }
  });
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
