// SPDX-License-Identifier: MIT
// The counter screen: the card field (keyboard wedge: digits then Enter, with check-digit
// feedback while typing), the member panel (balance, tier and its progress, expiring points,
// offers with their reason, affordable rewards redeemed in one tap with the coupon as printed),
// a sale, a refund, a voucher by typed code, enrolment and feedback.
import { strings as S } from './strings.js';
import { call } from './api.js';
import { h, clear, field, message, ready } from './dom.js';
import { num, money, date, parseMoney } from './fmt.js';
import { cardDigits, cardState } from './card.js';

const POLL_MS = 250;
const POLL_MAX = 80;
let current = null; // the member on the panel: { card, name, ... }
let lastSaleRef = '';
let rescan = null; // looks the member on the panel up again after a sale or a refund
let events = null; // the till's event stream (GET /v1/events) while the counter screen is open
document.addEventListener('patron:rescan', () => { if (rescan && current) rescan(current.card); });

function ref() {
  const d = new Date();
  const p = (n) => String(n).padStart(2, '0');
  return `W${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}-${Math.floor(Math.random() * 1e4)}`;
}

function cardFeedback(text) {
  const state = cardState(text);
  const n = cardDigits(text).length;
  if (n === 0) return ['', S.cardHelp];
  return {
    partial: ['', S.cardDigits(n)],
    ok: ['ok', S.cardCheckOk],
    'bad-check': ['fail', S.cardCheckBad],
    'bad-prefix': ['fail', S.cardPrefixBad],
    'bad-chars': ['fail', S.cardHelp],
  }[state];
}

async function pollPrint(jobId, statusEl, couponEl, code) {
  for (let i = 0; i < POLL_MAX; i++) {
    let job;
    try {
      job = await call('GET', `/v1/print-jobs/${jobId}`);
    } catch (e) {
      statusEl.textContent = e.message;
      return;
    }
    statusEl.textContent = S.printStatus(S.printStatuses[job.status] || job.status);
    if (job.last_error) statusEl.textContent += ` — ${job.last_error}`;
    if (job.status === 'printed') {
      const img = h('img', { src: `/v1/print-jobs/${jobId}/image`, alt: S.couponAlt(code), class: 'coupon-img' });
      img.addEventListener('error', () => clear(couponEl, h('p', {}, S.printNoPicture)));
      clear(couponEl, h('h3', {}, S.coupon), img);
      return;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function memberPanel(m, panel, msg) {
  const toNext = m.points_to_next_tier || 0;
  const progress = m.next_tier
    ? h('div', { class: 'tier-progress' },
      h('progress', { max: m.points + toNext, value: m.points, 'aria-label': S.tierProgress(num(toNext), m.next_tier) }),
      h('span', {}, S.tierProgress(num(toNext), m.next_tier)))
    : h('p', {}, S.tierTop);
  const offers = (m.offers || []).length
    ? h('ul', { class: 'offers' }, m.offers.map((o) => h('li', { 'data-offer': o.offer_id },
      h('strong', {}, o.name), o.exclusive ? h('span', { class: 'tag' }, S.offerExclusive) : null,
      h('span', { class: 'why' }, o.why))))
    : h('p', {}, S.noOffers);
  const coupon = h('div', { class: 'coupon', 'aria-live': 'polite' });
  const printStatus = h('p', { class: 'print-status', 'aria-live': 'polite' });
  const rewards = (m.rewards || []).length
    ? h('ul', { class: 'rewards' }, m.rewards.map((r) => h('li', {},
      h('button', {
        type: 'button', class: 'reward', 'data-reward': r.reward_id,
        onclick: (ev) => redeem(r, ev.currentTarget, msg, printStatus, coupon),
      }, h('span', {}, S.redeem(r.name)), h('span', { class: 'cost' }, S.rewardCost(num(r.cost)))))))
    : h('p', {}, S.noRewards);
  clear(panel,
    h('h2', { id: 'member-name', class: 'member-name' }, m.name),
    h('dl', { class: 'facts' },
      h('dt', {}, S.points), h('dd', { id: 'member-points' }, num(m.points)),
      h('dt', {}, S.tier), h('dd', {}, m.tier, progress)),
    h('p', { class: 'expiring' }, m.expiring_points ? S.expiring(num(m.expiring_points), date(m.expiring_at)) : S.noneExpiring),
    h('h3', {}, S.offers), offers,
    h('h3', {}, S.rewards), rewards, printStatus, coupon);
}

async function redeem(r, button, msg, printStatus, coupon) {
  if (!current) return;
  button.disabled = true;
  try {
    const res = await call('POST', `/v1/rewards/${r.reward_id}/redeem`, { card: current.card }, { idempotent: true });
    msg.ok(S.redeemed(r.name, res.code));
    const points = document.getElementById('member-points');
    if (points && typeof res.points === 'number') points.textContent = num(res.points);
    if (res.print_job) pollPrint(res.print_job, printStatus, coupon, res.code);
  } catch (e) {
    msg.fail(e.message);
  } finally {
    button.disabled = false;
  }
}

// Camera scanning where the browser has BarcodeDetector (phones and tablets): a member's card
// (EAN-13, or the card number in a QR) is looked up; a voucher's QR (its long token) or code is
// redeemed. Returns null where there is no detector, so the button is not shown.
function cameraButton(onCard, onVoucher) {
  if (!('BarcodeDetector' in window) || !navigator.mediaDevices) return null;
  const video = h('video', { class: 'camera', muted: true, playsinline: true, hidden: true });
  let stream = null;
  const stop = () => {
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null;
    video.hidden = true;
  };
  const button = h('button', { type: 'button', onclick: async () => {
    if (stream) { stop(); return; }
    try {
      const detector = new window.BarcodeDetector({ formats: ['qr_code', 'ean_13'] });
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
      const look = async () => {
        if (!stream) return;
        const found = await detector.detect(video).catch(() => []);
        const raw = found.length ? found[0].rawValue.trim() : '';
        if (/^29\d{11}$/.test(raw)) { stop(); onCard(raw); return; }
        if (raw) { stop(); onVoucher(raw); return; }
        setTimeout(look, 200);
      };
      look();
    } catch (e) { stop(); }
  } }, S.camera);
  return h('div', { class: 'camera-wrap' }, button, video);
}

function makeSection(title, id, ...body) {
  return h('section', { class: 'panel', 'aria-labelledby': id }, h('h2', { id }, title), ...body);
}

function form(onsubmit, ...children) {
  const f = h('form', {}, ...children);
  f.addEventListener('submit', (ev) => { ev.preventDefault(); onsubmit(); });
  return f;
}

function parseLines(text) {
  const out = [];
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const [sku, category, qty, price] = line.split(/\s+/);
    const unit = parseMoney(price);
    if (!sku || !category || !/^\d+$/.test(qty || '') || Number.isNaN(unit)) throw new Error(S.saleLinesBad);
    out.push({ sku, category, qty: Number(qty), unit_price: unit });
  }
  return out;
}

function saleSection(needCard) {
  const total = field(S.saleTotal, { inputmode: 'decimal', required: true, autocomplete: 'off' });
  const lines = field(S.saleLines, { tag: 'textarea', rows: 2 });
  const msg = message();
  return makeSection(S.sale, 'sale-title', form(async () => {
    const card = needCard(msg);
    if (!card) return;
    try {
      const body = { card, ref: ref(), total: parseMoney(total.input.value) };
      lastSaleRef = body.ref;
      if (Number.isNaN(body.total)) throw new Error(S.saleLinesBad);
      const l = parseLines(lines.input.value);
      if (l.length) body.lines = l;
      const res = await call('POST', '/v1/sales', body, { idempotent: true });
      msg.ok(S.saleDone(body.ref, num(res.points_earned + (res.bonus_points || 0)), num(res.points), res.tier) +
        (res.coupons && res.coupons.length ? ` · ${S.saleCoupons(res.coupons.length)}` : ''));
      total.input.value = '';
      lines.input.value = '';
      document.dispatchEvent(new CustomEvent('patron:rescan'));
    } catch (e) { msg.fail(e.message); }
  }, total.wrap, lines.wrap, h('button', { type: 'submit', class: 'primary' }, S.saleRecord), msg.el));
}

function refundSection() {
  const sref = field(S.refundRef, { required: true, autocomplete: 'off' }, S.refundRefHelp);
  sref.input.addEventListener('focus', () => { if (!sref.input.value && lastSaleRef) sref.input.placeholder = lastSaleRef; });
  const rref = field(S.refundReturnRef, { autocomplete: 'off' });
  const msg = message();
  return makeSection(S.refund, 'refund-title', form(async () => {
    try {
      const body = { ref: sref.input.value.trim() };
      if (rref.input.value.trim()) body.return_ref = rref.input.value.trim();
      const res = await call('POST', '/v1/refunds', body, { idempotent: true });
      msg.ok(S.refundDone(num(res.points_reversed)));
      document.dispatchEvent(new CustomEvent('patron:rescan'));
    } catch (e) { msg.fail(e.message); }
  }, sref.wrap, rref.wrap, h('button', { type: 'submit' }, S.refundRecord), msg.el));
}

let redeemVoucher = null; // a voucher read by the camera goes through the voucher form

function voucherSection() {
  const code = field(S.voucherCode, { required: true, autocomplete: 'off', spellcheck: 'false', autocapitalize: 'characters' }, S.voucherHelp);
  const msg = message();
  const section = makeSection(S.voucher, 'voucher-title', form(async () => {
    try {
      const typed = code.input.value.trim();
      const body = /^\d{33,}$/.test(typed) ? { token: typed, ref: ref() } : { code: typed, ref: ref() };
      if (current) body.card = current.card;
      const res = await call('POST', '/v1/vouchers/redeem', body, { idempotent: true });
      const v = res.voucher || res;
      const value = v.kind === 'amount' ? money(v.value) : `${v.kind} ${v.value}`;
      msg.ok(S.voucherDone(value));
      code.input.select();
    } catch (e) { msg.fail(e.message); code.input.select(); }
  }, code.wrap, h('button', { type: 'submit' }, S.voucherRedeem), msg.el));
  redeemVoucher = (text) => { code.input.value = text; section.querySelector('form').requestSubmit(); };
  return section;
}

function enrolSection(scan) {
  const name = field(S.enrolName, { required: true, autocomplete: 'off' });
  const email = field(S.enrolEmail, { type: 'email', autocomplete: 'off' });
  const phone = field(S.enrolPhone, { type: 'tel', autocomplete: 'off' });
  const consent = h('input', { type: 'checkbox', id: 'enrol-consent' });
  const msg = message();
  return makeSection(S.enrol, 'enrol-title', form(async () => {
    try {
      const body = { name: name.input.value.trim(), consent_marketing: consent.checked, consent_source: 'counter' };
      if (email.input.value.trim()) body.email = email.input.value.trim();
      if (phone.input.value.trim()) body.phone = phone.input.value.trim();
      const res = await call('POST', '/v1/members', body);
      msg.ok(S.enrolDone(res.card));
      for (const f of [name, email, phone]) f.input.value = '';
      consent.checked = false;
      scan(res.card);
    } catch (e) { msg.fail(e.message); }
  }, name.wrap, email.wrap, phone.wrap,
  h('div', { class: 'check' }, consent, h('label', { for: 'enrol-consent' }, S.enrolConsent)),
  h('button', { type: 'submit' }, S.enrolDo), msg.el));
}

async function goodwillForm(card, comment, place) {
  const res = await call('GET', '/v1/rewards');
  const select = h('select', { id: 'goodwill-reward' }, (res.rewards || []).map((r) => h('option', { value: r.reward_id }, r.name)));
  const why = field(S.goodwillComplaint, { id: 'goodwill-complaint', autocomplete: 'off', required: true, value: comment || '' });
  const msg = message();
  const f = form(async () => {
    try {
      const g = await call('POST', '/v1/goodwill', { card, reward_id: Number(select.value), complaint: why.input.value.trim() }, { idempotent: true });
      msg.ok(S.goodwillDone(g.code || ''));
    } catch (e) { msg.fail(e.message); }
  }, h('h3', {}, S.goodwill), h('div', { class: 'field' }, h('label', { for: 'goodwill-reward' }, S.goodwillReward), select),
  why.wrap, h('button', { type: 'submit' }, S.goodwillDo), msg.el);
  clear(place, f);
}

function feedbackSection(needCard, session) {
  const goodwill = h('div', { class: 'goodwill' });
  const score = field(S.feedbackScore, { type: 'number', min: 1, max: 5, required: true });
  const comment = field(S.feedbackComment, { tag: 'textarea', rows: 2 });
  const msg = message();
  return makeSection(S.feedback, 'feedback-title', form(async () => {
    const card = needCard(msg);
    if (!card) return;
    try {
      const body = { card, score: Number(score.input.value) };
      if (comment.input.value.trim()) body.comment = comment.input.value.trim();
      await call('POST', '/v1/feedback', body, { idempotent: true });
      msg.ok(S.feedbackDone);
      if (session && session.role !== 'cashier' && body.score <= 3) await goodwillForm(card, body.comment, goodwill);
      score.input.value = '';
      comment.input.value = '';
    } catch (e) { msg.fail(e.message); }
  }, score.wrap, comment.wrap, h('button', { type: 'submit' }, S.feedbackDo), msg.el), goodwill);
}

// A scan from the till's own card scanner (`patron terminal scanner`) arrives on the till's event
// stream with what Patron found: the member panel follows it without a click. The browser sends
// the session cookie with the stream; a stream that fails (signed out, too many open) just stops.
export function leaveCounter() {
  if (events) events.close();
  events = null;
  document.body.dataset.events = 'closed';
}

function listenToScanner(card, panel, msg) {
  leaveCounter();
  if (typeof EventSource === 'undefined') return;
  events = new EventSource('/v1/events');
  events.addEventListener('scan', (ev) => {
    let data;
    try { data = JSON.parse(ev.data); } catch { return; }
    if (data.kind === 'card' && data.ok && data.member) {
      current = data.member;
      card.input.value = data.member.card || '';
      msg.clear();
      memberPanel(data.member, panel, msg);
    } else if (data.kind === 'card' || data.kind === 'invalid') {
      msg.fail(data.detail || S.scannerMisread);
    }
  });
  events.addEventListener('open', () => { document.body.dataset.events = 'open'; });
  events.addEventListener('error', () => {
    if (events && events.readyState === EventSource.CLOSED) events = null;
  });
}

export function counterScreen(main, session) {
  current = null;
  const card = field(S.card, { id: 'card', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false', enterkeyhint: 'search' }, S.cardHelp);
  const help = card.wrap.querySelector('.help');
  help.setAttribute('aria-live', 'polite');
  const panel = h('div', { id: 'member-panel', class: 'member', 'aria-live': 'polite' });
  const msg = message();

  async function scan(number) {
    const t0 = performance.now();
    try {
      const m = await call('POST', '/v1/scan', { card: cardDigits(number) });
      current = m;
      msg.clear();
      memberPanel(m, panel, msg);
      // From Enter to the panel drawn: read by the benchmark (bench/web_scan.mjs).
      document.body.dataset.lastScanMs = (performance.now() - t0).toFixed(2);
      document.body.dataset.scans = String(Number(document.body.dataset.scans || 0) + 1);
    } catch (e) {
      current = null;
      clear(panel);
      msg.fail(e.message);
    }
    card.input.select();
  }
  const needCard = (m) => {
    if (current) return current.card;
    m.fail(S.needMember);
    card.input.focus();
    return null;
  };

  card.input.addEventListener('input', () => {
    const [cls, text] = cardFeedback(card.input.value);
    help.className = `help ${cls}`;
    help.textContent = text;
  });
  const scanForm = form(() => scan(card.input.value), card.wrap, h('button', { type: 'submit' }, S.scan),
    cameraButton((number) => { card.input.value = number; scan(number); }, (text) => redeemVoucher && redeemVoucher(text)));
  scanForm.className = 'scan';
  rescan = scan;

  listenToScanner(card, panel, msg);

  clear(main,
    h('h1', { class: 'visually-hidden' }, S.navCounter),
    h('div', { class: 'counter' },
      h('section', { class: 'panel wide', 'aria-labelledby': 'member-title' },
        h('h2', { id: 'member-title', class: 'visually-hidden' }, S.memberPanel),
        scanForm, msg.el, panel),
      h('div', { class: 'side' }, saleSection(needCard), voucherSection(), refundSection(),
        enrolSection(scan), feedbackSection(needCard, session))));
  card.input.focus();
  ready();
}
