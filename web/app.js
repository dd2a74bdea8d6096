// SPDX-License-Identifier: MIT
// The browser app of the counter service: signing in with the till token, the counter screen
// (keyboard first: a wedge scanner types the card's digits then Enter), and for a manager or an
// admin the back office. Plain modules, no build step; every string in strings.js.
import { strings as S } from './strings.js';
import { call, setCsrf, onSessionEnd, ApiError } from './api.js';
import { h, clear, field, message, ready } from './dom.js';
import { setLocale } from './fmt.js';
import { counterScreen, leaveCounter } from './counter.js';
import { membersScreen, offersScreen, printsScreen, reportsScreen, tillsScreen, programScreen, keysScreen } from './office.js';
import { chainScreen } from './chain.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const signOutBtn = document.getElementById('sign-out');
const ROLES = { cashier: 1, manager: 2, admin: 3 };
let session = null;

const screens = [
  { id: 'counter', label: S.navCounter, role: 'cashier', draw: counterScreen },
  { id: 'members', label: S.navMembers, role: 'admin', draw: membersScreen },
  { id: 'offers', label: S.navOffers, role: 'manager', draw: offersScreen },
  { id: 'prints', label: S.navPrints, role: 'manager', draw: printsScreen },
  { id: 'program', label: S.navProgram, role: 'manager', draw: programScreen },
  { id: 'reports', label: S.navReports, role: 'admin', draw: reportsScreen },
  { id: 'tills', label: S.navTills, role: 'admin', draw: tillsScreen },
  { id: 'keys', label: S.navKeys, role: 'admin', draw: keysScreen },
  { id: 'chain', label: S.navChain, role: 'manager', draw: chainScreen },
];

function showShop(s) {
  const name = s ? s.shop.name : S.appName;
  document.getElementById('shop-name').textContent = name;
  document.getElementById('till-name').textContent = s ? S.tillIs(s.till, s.role) : '';
  signOutBtn.hidden = !s;
}

function go(id) {
  delete document.body.dataset.ready;
  const screen = screens.find((x) => x.id === id && ROLES[session.role] >= ROLES[x.role]) || screens[0];
  for (const b of nav.querySelectorAll('a')) {
    if (b.dataset.screen === screen.id) b.setAttribute('aria-current', 'page');
    else b.removeAttribute('aria-current');
  }
  document.title = `${screen.label} · ${session.shop.name}`;
  document.body.dataset.screen = screen.id;
  leaveCounter(); // the till's event stream is open only while the counter screen is
  screen.draw(main, session);
}

function drawNav() {
  const allowed = screens.filter((x) => ROLES[session.role] >= ROLES[x.role]);
  nav.hidden = allowed.length < 2;
  clear(nav, allowed.map((x) => h('a', { href: `#${x.id}`, 'data-screen': x.id }, x.label)));
}

function signedIn(s) {
  session = s;
  if (s.csrf_token) setCsrf(s.csrf_token);
  setLocale(s.shop.locale, s.shop.currency);
  document.documentElement.lang = s.shop.locale;
  showShop(s);
  drawNav();
  go(location.hash.slice(1) || 'counter');
}

let shopName = null; // known before signing in (GET /v1/shop)

function signInScreen(note) {
  session = null;
  leaveCounter(); // no scan reaches a browser that signed out
  setCsrf(null);
  showShop(null);
  if (shopName) document.getElementById('shop-name').textContent = shopName;
  else call('GET', '/v1/shop', undefined, { signingIn: true }).then((shop) => {
    shopName = shop.name;
    if (!session) document.getElementById('shop-name').textContent = shopName;
  }).catch(() => {});
  nav.hidden = true;
  document.title = `${S.signInTitle} · ${S.appName}`;
  document.body.dataset.screen = 'sign-in';
  const token = field(S.tillToken, { type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' }, S.signInHelp);
  const msg = message();
  if (note) msg.fail(note);
  const form = h('form', { class: 'panel narrow', 'aria-labelledby': 'sign-in-title' },
    h('h1', { id: 'sign-in-title' }, S.signInTitle), token.wrap,
    h('button', { type: 'submit', class: 'primary' }, S.signIn), msg.el);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const s = await call('POST', '/v1/session', { token: token.input.value.trim() }, { signingIn: true });
      token.input.value = '';
      history.replaceState(null, '', '#counter');
      signedIn(s);
    } catch (e) {
      msg.fail(e.message);
      token.input.select();
    }
  });
  clear(main, form);
  token.input.focus();
  ready();
}

onSessionEnd(() => signInScreen(S.signedOutExpired));
window.addEventListener('hashchange', () => { if (session) go(location.hash.slice(1)); });
signOutBtn.addEventListener('click', async () => {
  try { await call('DELETE', '/v1/session'); } catch (e) { /* signed out either way */ }
  signInScreen();
});

async function start() {
  try {
    signedIn(await call('GET', '/v1/session', undefined, { signingIn: true }));
  } catch (e) {
    signInScreen(e instanceof ApiError && e.status && e.status !== 401 ? e.message : undefined);
  }
}
start();
