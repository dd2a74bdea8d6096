// SPDX-License-Identifier: MIT
// The screens in a real browser: playwright-core driving Debian's chromium (/usr/bin/chromium)
// against a real `patron serve` on a loopback port, with the virtual printer and a store made
// here with the `patron` program. A whole checkout by keyboard wedge, a sale, a redemption with
// the coupon as printed, a voucher redeemed by typed code and its second redemption refused with
// where and when, an exclusive offer made in the back office (with the live count and sample of
// the members its targets reach) shown only to its member, then edited and ended, an
// erasure through the back office, a cashier without the back office (403 from its routes),
// markup in a member's and an offer's name shown as text, an expired session sent back to
// sign-in, axe-core on every screen (no serious or critical violation), a screenshot of each
// screen into docs/screens/, and the first load's bytes and time to ready measured and printed.
//
// Usage: PATRON_BIN=build/patron node web/test/browser.test.mjs  (run by ctest, label `web`).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, existsSync, mkdirSync, readdirSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, '..', '..');
const bin = process.env.PATRON_BIN || join(source, 'build', 'patron');
const browserPath = process.env.PATRON_CHROMIUM || '/usr/bin/chromium';
const screens = process.env.PATRON_SCREENS_DIR || join(source, 'docs', 'screens');
const FIRST_LOAD_MAX_BYTES = 150 * 1024;
const READY_MAX_MS = 500;
const FIRST_LOAD_MAX_FILES = 12; // index.html and the modules it imports
const MARKUP = '<img src=x onerror=alert(1)>';

const dir = mkdtempSync(join(tmpdir(), 'patron-web-'));
const db = join(dir, 'patron.db');
const servers = [];
let browser;
let failed = 0;

function patron(...args) {
  const out = execFileSync(bin, ['--db', db, '--home', dir, '--printer', 'none', '--json', ...args], { encoding: 'utf8' });
  return JSON.parse(out);
}

function serve(...extra) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['--db', db, '--home', dir, '--printer', `virtual:${join(dir, 'prints')}`,
      'serve', '--listen', '127.0.0.1:0', '--locale', 'en-GB', ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
    servers.push(child);
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) resolve({ child, url: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`patron serve exited ${code} before listening`)));
  });
}

// A throwaway PostgreSQL for the chain screen's head office, as tests/pgutil.c and
// scripts/hq-demo.sh start one: its own folder under /tmp and a free loopback port, as the
// postgres user when run as root; the owner logs in without a password on loopback, every store
// role with its own (SCRAM). Stopped and removed at the end, whatever happens.
const pg = { base: null, bin: null };
function asServer(cmd, args, stdio = 'pipe') {
  const root = process.getuid && process.getuid() === 0;
  return execFileSync(root ? 'runuser' : cmd, root ? ['-u', 'postgres', '--', cmd, ...args] : args,
    { encoding: 'utf8', stdio });
}
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}
async function startPostgres() {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  if (!versions.length) throw new Error('no PostgreSQL server in /usr/lib/postgresql/*/bin: scripts/install-deps.sh installs it');
  pg.bin = join(root, versions.sort((a, b) => Number(a) - Number(b)).at(-1), 'bin');
  pg.base = mkdtempSync('/tmp/patron-web-pg-');
  if (process.getuid && process.getuid() === 0) execFileSync('chown', ['postgres:postgres', pg.base]);
  chmodSync(pg.base, 0o700);
  asServer(join(pg.bin, 'initdb'), ['-D', join(pg.base, 'data'), '-U', 'postgres', '-A', 'trust', '-E', 'UTF8',
    '--locale=C.UTF-8', '--no-sync']);
  asServer('sh', ['-c', `printf '%s\\n' 'local all postgres trust' 'local all all scram-sha-256' \
'host all postgres 127.0.0.1/32 trust' 'host all all 127.0.0.1/32 scram-sha-256' > '${join(pg.base, 'data', 'pg_hba.conf')}'`]);
  const port = await freePort();
  asServer(join(pg.bin, 'pg_ctl'), ['-D', join(pg.base, 'data'), '-l', join(pg.base, 'server.log'), '-w', '-t', '60',
    '-o', `-p ${port} -k ${pg.base} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start'], 'ignore');
  return `postgresql://postgres@127.0.0.1:${port}/postgres`;
}
function stopPostgres() {
  if (!pg.base) return;
  try {
    asServer(join(pg.bin, 'pg_ctl'), ['-D', join(pg.base, 'data'), '-m', 'fast', '-w', 'stop'], 'ignore');
  } catch (e) { /* not started */ }
  rmSync(pg.base, { recursive: true, force: true });
}

// A serial card scanner: a pseudo-terminal pair made by python3, whose slave `patron serve` reads
// as the till's scanner (`file:` spec) and whose master the test types card numbers into.
function serialScanner() {
  const py = spawn('python3', ['-u', '-c', [
    'import os, pty, sys',
    'm, s = pty.openpty()',
    'print(os.ttyname(s), flush=True)',
    'for line in sys.stdin:',
    '    os.write(m, line.strip().encode() + b"\\r\\n")',
  ].join('\n')], { stdio: ['pipe', 'pipe', 'inherit'] });
  servers.push(py);
  return new Promise((resolve, reject) => {
    let out = '';
    py.stdout.on('data', (d) => {
      out += d;
      const i = out.indexOf('\n');
      if (i >= 0) resolve({ py, path: out.slice(0, i) });
    });
    py.on('exit', (code) => reject(new Error(`the pseudo-terminal helper exited ${code}`)));
  });
}

async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.stack || e}`);
  }
}

async function axe(page, screen) {
  const res = await new AxeBuilder({ page }).analyze();
  const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`), [],
    `axe on the ${screen} screen`);
}

async function shot(page, name) {
  mkdirSync(screens, { recursive: true });
  await page.screenshot({ path: join(screens, `${name}.png`), fullPage: true });
}

async function signIn(page, url, token) {
  await page.goto(url);
  await page.waitForSelector('body[data-ready="1"]');
  await page.getByLabel('Till token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForSelector('body[data-screen="counter"][data-ready="1"]');
}

async function scan(page, card) {
  const field = page.getByLabel('Card', { exact: true });
  await field.focus();
  await page.keyboard.type(card); // a keyboard-wedge scanner types the digits...
  await page.keyboard.press('Enter'); // ...then Enter
}

async function main() {
  // The store: a shop, tills of each role, members (one whose name is markup), a reward.
  patron('init', '--store-id', '1', '--store-name', 'Corner Café');
  // a member of three months ago who bought in each month since: a retention cohort with data
  const monthsAgo = (k) => {
    const d = new Date();
    d.setUTCDate(10);
    d.setUTCMonth(d.getUTCMonth() - k);
    return d.toISOString().replace(/\.\d+Z$/, 'Z');
  };
  const olive = patron('--now', monthsAgo(3), 'member', 'enroll', '--name', 'Olive Older').card;
  for (const k of [3, 2, 1]) patron('--now', monthsAgo(k), 'sale', olive, '--ref', `OLD-${k}`, '--total', '2000');
  const cashier = patron('terminal', 'add', 'till-1', '--role', 'cashier').token;
  const admin = patron('terminal', 'add', 'office', '--role', 'admin').token;
  const ada = patron('member', 'enroll', '--name', 'Ada Lovelace').card;
  const grace = patron('member', 'enroll', '--name', 'Grace Hopper').card;
  const mallory = patron('member', 'enroll', '--name', MARKUP).card;
  const erin = patron('member', 'enroll', '--name', 'Erin Erased').card;
  for (const [card, ref] of [[ada, 'S1'], [grace, 'S2'], [mallory, 'S3'], [erin, 'S4']])
    patron('sale', card, '--ref', ref, '--total', '30000');
  patron('reward', 'add', '--name', 'Free coffee', '--cost', '100', '--kind', 'item', '--value', '1');
  patron('reward', 'add', '--name', MARKUP, '--cost', '50', '--kind', 'points', '--value', '10');
  patron('offer', 'add', '--name', `Offer ${MARKUP}`, '--benefit', 'bonus:5');
  patron('offer', 'segment', 'regulars', ada);

  const scanner = await serialScanner();
  patron('terminal', 'scanner', 'till-1', `file:${scanner.path}`);
  const { url } = await serve();
  browser = await chromium.launch({
    executablePath: browserPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await context.newPage();
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));

  await step('sign-in screen: a "Till token" field, axe clean', async () => {
    await page.goto(url);
    await page.waitForSelector('body[data-screen="sign-in"][data-ready="1"]');
    await page.locator('#shop-name', { hasText: 'Corner Café' }).waitFor();
    await axe(page, 'sign-in');
    await shot(page, 'sign-in');
    await page.getByLabel('Till token').fill('ptk_wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('this till token is not known here').waitFor();
  });

  await step('a cashier signs in; the shop name is on the screen', async () => {
    await signIn(page, url, cashier);
    assert.equal(await page.locator('#shop-name').textContent(), 'Corner Café');
  });

  await step("a scan from the till's card scanner fills the member panel without a click", async () => {
    await page.waitForSelector('body[data-events="open"]');
    scanner.py.stdin.write(`${grace}\n`);
    await page.locator('#member-panel', { hasText: 'Grace Hopper' }).waitFor();
    assert.equal(await page.getByLabel('Card', { exact: true }).inputValue(), grace);
  });

  await step('first load of the counter screen: bytes and time to ready', async () => {
    // A fresh context (the session's cookie, an empty cache); its first page pays for starting
    // a renderer process, so the load measured is a reload with the cache emptied and disabled:
    // every file comes over the wire again, as on a till's first visit.
    const fresh = await browser.newContext({ viewport: { width: 1366, height: 768 }, storageState: await context.storageState() });
    const p = await fresh.newPage();
    await p.goto(url);
    await p.waitForSelector('body[data-screen="counter"][data-ready="1"]');
    const cdp = await fresh.newCDPSession(p);
    await cdp.send('Network.enable');
    await cdp.send('Network.clearBrowserCache');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await p.reload();
    await p.waitForSelector('body[data-screen="counter"][data-ready="1"]');
    const m = await p.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const res = performance.getEntriesByType('resource');
      const bytes = [nav, ...res].reduce((n, e) => n + (e.transferSize || 0), 0);
      const readyMs = Number(document.body.dataset.readyAt);
      const api = res.filter((e) => new URL(e.name).pathname.startsWith('/v1/'));
      return {
        bytes, files: res.length + 1 - api.length, readyMs,
        // what the first scan waited for: the API calls started before ready, and whether each
        // had its answer by then (the event stream never ends and is not waited for)
        apiBeforeReady: api.filter((e) => e.startTime < readyMs).map((e) => ({
          path: new URL(e.name).pathname, done: e.responseEnd > 0 && e.responseEnd <= readyMs,
        })),
      };
    });
    console.log(`     first load: ${m.files} files, ${m.bytes} bytes transferred, ready for the first scan ${m.readyMs} ms after navigation`);
    assert.ok(m.bytes > 0 && m.bytes <= FIRST_LOAD_MAX_BYTES, `first load ${m.bytes} bytes`);
    // The time to ready is bounded by what it waits for, held here whatever the machine's speed:
    // the app's files (a fixed set, no bundle fetched later) and one API round trip, the
    // session; the till's event stream opens before ready without being waited for.
    assert.ok(m.files <= FIRST_LOAD_MAX_FILES, `first load ${m.files} files`);
    assert.deepEqual(m.apiBeforeReady.filter((a) => a.path !== '/v1/events'), [{ path: '/v1/session', done: true }]);
    // The time itself depends on the machine (on the shared 2-core build machine the same load
    // took 366 ms and 993 ms minutes apart): measured and printed always, held to the goal in
    // milliseconds where asked (bench/run sets PATRON_WEB_STRICT_TIMING=1).
    if (process.env.PATRON_WEB_STRICT_TIMING === '1') assert.ok(m.readyMs <= READY_MAX_MS, `ready after ${m.readyMs} ms`);
    else if (m.readyMs > READY_MAX_MS) console.log(`     (above the ${READY_MAX_MS} ms goal on this machine; not held here)`);
    await fresh.close();
  });

  await step('check-digit feedback while typing', async () => {
    const field = page.getByLabel('Card', { exact: true });
    await field.fill('');
    await field.pressSequentially(ada.slice(0, 12) + String((Number(ada[12]) + 1) % 10));
    await page.getByText('Check digit wrong').waitFor();
    await field.fill('');
    await field.pressSequentially(ada);
    await page.getByText('Check digit correct').waitFor();
    await field.fill('');
  });

  let code;
  let saleRef;
  await step('a whole checkout by keyboard wedge: scan, sale, redemption with the coupon', async () => {
    await scan(page, ada);
    await page.locator('#member-name', { hasText: 'Ada Lovelace' }).waitFor();
    const before = await page.locator('#member-points').textContent();
    await page.getByLabel('Total').fill('12.50');
    await page.keyboard.press('Enter');
    const sale = page.getByText(/Sale \S+ recorded: \d+ points earned/);
    await sale.waitFor();
    saleRef = (await sale.textContent()).match(/Sale (\S+) recorded/)[1];
    await page.waitForFunction((b) => document.querySelector('#member-points')?.textContent !== b, before);
    await page.getByRole('button', { name: /Redeem Free coffee/ }).click();
    const msg = page.getByText(/Free coffee redeemed: voucher /);
    await msg.waitFor();
    code = (await msg.textContent()).match(/voucher (\S+)$/)[1];
    const coupon = page.locator('img.coupon-img');
    await coupon.waitFor();
    await page.waitForFunction(() => document.querySelector('img.coupon-img')?.naturalWidth > 0);
    await page.getByText('Print: printed').waitFor();
    await axe(page, 'counter');
    await shot(page, 'counter');
  });

  await step('a voucher redeemed by typed code; the second time refused with where and when', async () => {
    const field = page.getByLabel('Voucher code');
    await field.fill(code.toLowerCase().replaceAll('-', ' '));
    await page.keyboard.press('Enter');
    await page.getByText(/Voucher redeemed/).waitFor();
    await field.fill(code);
    await page.keyboard.press('Enter');
    const refusal = page.locator('[role="alert"]', { hasText: 'first redeemed at' });
    await refusal.waitFor();
    const text = await refusal.textContent();
    assert.match(text, /first redeemed at \d{4}-\d\d-\d\dT\S+ at store 1, till 'till-1'/);
    await shot(page, 'counter-voucher-refused');
  });

  await step('a refund of the sale by its receipt number', async () => {
    await page.getByLabel('Receipt number of the sale').fill(saleRef);
    await page.getByRole('button', { name: 'Record refund' }).click();
    await page.getByText(/Refund recorded: \d+ points reversed/).waitFor();
  });

  await step('markup in a member\'s, a reward\'s and an offer\'s name shows as text', async () => {
    await scan(page, mallory);
    await page.locator('#member-name').filter({ hasText: MARKUP }).waitFor();
    assert.equal(await page.locator('#member-name').textContent(), MARKUP);
    assert.equal(await page.locator('#main img:not(.coupon-img)').count(), 0);
    await page.locator('.offers li', { hasText: `Offer ${MARKUP}` }).waitFor();
    await page.getByRole('button', { name: `Redeem ${MARKUP}` }).waitFor();
    await page.waitForTimeout(200); // an onerror handler, were it markup, would have run
    assert.deepEqual(dialogs, []);
    await shot(page, 'counter-markup');
  });

  await step('enrolment with the consent checkbox, then feedback', async () => {
    await page.getByLabel('Name', { exact: true }).fill('Nina New');
    await page.getByLabel('The member agrees to receive offers').check();
    await page.getByRole('button', { name: 'Enrol', exact: true }).click();
    await page.getByText(/Enrolled: card 29\d{11}/).waitFor();
    await page.locator('#member-name', { hasText: 'Nina New' }).waitFor();
    await page.getByLabel('Score (1 to 5)').fill('5');
    await page.getByLabel('Comment (optional)').fill('Lovely');
    await page.getByRole('button', { name: 'Send feedback' }).click();
    await page.getByText('Thank you: feedback recorded').waitFor();
  });

  await step('a refusal shows the problem\'s sentence: an unknown card', async () => {
    await scan(page, '2900000000001');
    await page.locator('[role="alert"]', { hasText: 'no member holds card 2900000000001' }).waitFor();
  });

  await step('a cashier sees no back office and gets 403 from its routes', async () => {
    assert.equal(await page.locator('#nav').isHidden(), true);
    const statuses = await page.evaluate(async () => Promise.all(
      ['/v1/print-jobs', '/v1/offers', '/v1/reports/liability'].map(async (p) => (await fetch(p)).status)));
    assert.deepEqual(statuses, [403, 403, 403]);
    await page.goto(`${url}/#offers`);
    await page.waitForSelector('body[data-screen="counter"][data-ready="1"]');
  });

  await step('a change without the CSRF token is refused', async () => {
    const status = await page.evaluate(async (card) => (await fetch('/v1/scan', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ card }),
    })).status, ada);
    assert.equal(status, 403);
  });

  await step('sign out goes back to sign-in', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForSelector('body[data-screen="sign-in"]');
    // the till's event stream closes with the session: no scan reaches a signed-out browser
    await page.waitForSelector('body[data-events="closed"]');
  });

  const office = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const op = await office.newPage();
  op.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  await step('the back office: an exclusive offer for a segment, shown at scan to its member only', async () => {
    await signIn(op, url, admin);
    await op.getByRole('link', { name: 'Offers' }).click();
    await op.waitForSelector('body[data-screen="offers"][data-ready="1"]');
    // no target yet: every member with a card (six: five seeded, one enrolled above)
    await op.locator('#offer-audience[data-count="6"]', { hasText: '6 of 6 members' }).waitFor();
    await op.getByLabel('Name', { exact: true }).fill('Regulars double');
    await op.getByLabel(/^Benefit/).fill('bonus:50');
    await op.getByLabel(/^Segment/).fill('regulars');
    // the count and sample follow the targeting fields as they change, asked of the server
    await op.locator('#offer-audience[data-count="1"]', { hasText: '1 of 6 members' }).waitFor();
    assert.deepEqual(await op.locator('#offer-audience .sample li').allTextContents(), [`Ada Lovelace · ${ada}`]);
    await op.getByLabel('First visit only').check();
    await op.locator('#offer-audience[data-count="0"]').waitFor();
    await op.getByLabel('First visit only').uncheck();
    await op.getByLabel(/^Segment/).fill('nobody-here');
    await op.locator('#offer-audience .fail', { hasText: "no segment named 'nobody-here'" }).waitFor();
    await op.getByLabel(/^Segment/).fill('regulars');
    await op.locator('#offer-audience[data-count="1"]').waitFor();
    await op.getByLabel('Exclusive').check();
    await axe(op, 'offers');
    await shot(op, 'offers');
    await op.getByRole('button', { name: 'Create offer' }).click();
    await op.getByText('Offer created').waitFor();
    await op.locator('.list li', { hasText: 'Regulars double' }).waitFor();
    await op.getByRole('link', { name: 'Counter' }).click();
    await op.waitForSelector('body[data-screen="counter"][data-ready="1"]');
    await scan(op, ada);
    await op.locator('.offers li', { hasText: 'Regulars double' }).waitFor();
    await scan(op, grace);
    await op.locator('#member-name', { hasText: 'Grace Hopper' }).waitFor();
    assert.equal(await op.locator('.offers li', { hasText: 'Regulars double' }).count(), 0);
  });

  await step('the back office: an offer edited (its new version replaces it), then ended', async () => {
    await op.getByRole('link', { name: 'Offers' }).click();
    await op.waitForSelector('body[data-screen="offers"][data-ready="1"]');
    await op.getByRole('button', { name: 'Change Regulars double' }).click();
    assert.equal(await op.getByLabel(/^Segment/).inputValue(), 'regulars');
    await op.locator('#offer-audience[data-count="1"]').waitFor();
    await op.getByLabel('Name', { exact: true }).fill('Regulars triple');
    await op.getByLabel(/^Segment/).fill('');
    await op.locator('#offer-audience[data-count="6"]').waitFor();
    await shot(op, 'offers-edit');
    await op.getByRole('button', { name: 'Save as the new version' }).click();
    await op.getByText('Regulars double changed').waitFor();
    await op.locator('.list li', { hasText: 'Regulars triple' }).waitFor();
    assert.equal(await op.locator('.list li', { hasText: 'Regulars double' }).count(), 0);
    await op.getByRole('button', { name: 'End Regulars triple' }).click();
    await op.getByText('Offer ended').waitFor();
    await op.waitForFunction(() => ![...document.querySelectorAll('.list li')].some((li) => li.textContent.includes('Regulars triple')));
  });

  await step('the print queue with reprint', async () => {
    await op.getByRole('link', { name: 'Print queue' }).click();
    await op.waitForSelector('body[data-screen="prints"][data-ready="1"]');
    await op.getByRole('button', { name: /Reprint job 1$/ }).click();
    await op.getByText(/Reprint queued as job \d+/).waitFor();
    await axe(op, 'print queue');
    await shot(op, 'print-queue');
  });

  await step('the program: a rule, a tier and a reward changed, each in the audit with who and old -> new', async () => {
    await op.getByRole('link', { name: 'Program' }).click();
    await op.waitForSelector('body[data-screen="program"][data-ready="1"]');
    await op.getByLabel('Rule', { exact: true }).selectOption('expiry_days');
    await op.getByLabel('New value').fill('400');
    await op.getByRole('button', { name: 'Change rule' }).click();
    await op.locator('[data-rule="expiry_days"]', { hasText: '400' }).waitFor();
    await op.getByLabel('Tier', { exact: true }).fill('Gold');
    await op.getByLabel('From points earned in 12 months').fill('5000');
    await op.getByLabel(/^Multiplier/).fill('1500');
    await op.getByRole('button', { name: 'Add or change tier' }).click();
    await op.locator('#tiers td', { hasText: 'Gold' }).waitFor();
    await op.getByLabel('Reward', { exact: true }).fill('Cake');
    await op.getByLabel('Cost (points)').fill('300');
    await op.getByLabel('Value', { exact: true }).fill('2');
    await op.getByRole('button', { name: 'Add reward' }).click();
    await op.getByText('Reward Cake added').waitFor();
    await op.getByRole('button', { name: 'Change Cake' }).click();
    await op.getByLabel('Cost (points)').fill('350');
    await op.getByRole('button', { name: 'Save Cake' }).click();
    await op.getByText('Reward Cake changed').waitFor();
    const audit = op.locator('#rule-changes tbody tr', { hasText: 'Cake: 350 points' });
    await audit.waitFor();
    const cells = await audit.first().locator('td').allTextContents();
    assert.equal(cells[1], 'office');
    assert.match(cells[2], /^reward \d+$/);
    assert.equal(cells[3], 'Cake: 300 points for item 2, valid 30 days');
    assert.equal(cells[4], 'Cake: 350 points for item 2, valid 30 days');
    await op.locator('#rule-changes tbody tr', { hasText: 'tier Gold' }).waitFor();
    await axe(op, 'program');
    await shot(op, 'program');
    await op.getByRole('button', { name: 'End Cake' }).click();
    await op.getByText('Reward Cake ended').waitFor();
    await op.waitForFunction(() => ![...document.querySelectorAll('#rewards td')].some((td) => td.textContent === 'Cake'));
    await op.locator('#rule-changes tbody tr', { hasText: 'ended' }).first().waitFor();
  });

  await step('reports with charts drawn on the page from their JSON, and a CSV link each', async () => {
    await op.getByRole('link', { name: 'Reports' }).click();
    await op.waitForSelector('body[data-screen="reports"][data-ready="1"][data-report="liability"]');
    await op.getByRole('columnheader', { name: 'members_with_points' }).waitFor();
    const [download] = await Promise.all([op.waitForEvent('download'), op.getByRole('link', { name: 'Download CSV' }).click()]);
    assert.equal(download.suggestedFilename(), 'liability.csv');
    const csv = readFileSync(await download.path(), 'utf8');
    assert.match(csv, /^points,value,currency,members_with_points/);
    // every chart is inline SVG (no image fetched, no script in it), named for screen readers
    for (const name of ['liability', 'redemption', 'satisfaction', 'offers', 'rfm', 'retention']) {
      await op.getByLabel('Report', { exact: true }).selectOption(name);
      await op.getByRole('button', { name: 'Show' }).click();
      await op.waitForSelector(`body[data-report="${name}"]`);
      const chart = op.locator('figure.chart-wrap svg[role="img"]');
      await chart.waitFor();
      assert.match(await chart.getAttribute('aria-label'), /^Chart: /);
      assert.equal(await op.getByRole('link', { name: 'Download CSV' }).getAttribute('href'), `/v1/reports/${name}?format=csv`);
      assert.equal(await op.locator('figure.chart-wrap img, figure.chart-wrap script').count(), 0);
      if (name === 'redemption') {
        assert.ok(await chart.locator('rect').count() >= 2, 'bars drawn');
        await shot(op, 'reports-redemption');
      }
      if (name === 'rfm') await shot(op, 'reports-rfm');
      await op.evaluate(() => { delete document.body.dataset.report; });
    }
    // the retention cohorts as a heat map: a cell per cohort and month with its share written in it
    const cells = op.locator('figure.chart-wrap svg text.cell');
    assert.ok(await cells.count() >= 1, 'heat map cells');
    assert.match(await cells.first().textContent(), /^\d+(\.\d)?%$/);
    await axe(op, 'reports');
    await shot(op, 'reports');
  });

  await step('tills: a new till\'s token shown once, then revoked', async () => {
    await op.getByRole('link', { name: 'Tills' }).click();
    await op.waitForSelector('body[data-screen="tills"][data-ready="1"]');
    await op.getByLabel('New till name').fill('till-2');
    await op.getByRole('button', { name: 'Add till' }).click();
    const token = await op.locator('#till-new-token').textContent();
    assert.match(token, /^ptk_[A-Za-z0-9_-]{43}$/);
    await op.getByRole('button', { name: 'Revoke till-2' }).click();
    await op.getByText('till-2 was revoked').waitFor();
    await axe(op, 'tills');
    await shot(op, 'tills');
  });

  await step('keys: listed by fingerprint, rotated', async () => {
    await op.getByRole('link', { name: 'Keys' }).click();
    await op.waitForSelector('body[data-screen="keys"][data-ready="1"]');
    const rows = op.locator('#keys tbody tr');
    const before = await rows.count();
    assert.ok(before >= 1);
    await op.getByRole('button', { name: /^Rotate/ }).click();
    await op.getByText(/^Key \d+ now signs/).waitFor();
    await op.waitForFunction((n) => document.querySelectorAll('#keys tbody tr').length === n + 1, before);
    assert.equal(await op.locator('#keys td', { hasText: /^signs$/ }).count(), 1);
    assert.doesNotMatch(await op.locator('#main').textContent(), /PRIVATE|\.pem/);
    assert.equal(await op.locator('#chain-note').count(), 0); // the chain has a screen of its own
    await axe(op, 'keys');
    await shot(op, 'keys');
  });

  await step('chain: a store without head office says it is not in a chain', async () => {
    await op.getByRole('link', { name: 'Chain' }).click();
    await op.waitForSelector('body[data-screen="chain"][data-ready="1"]');
    await op.locator('#chain-none', { hasText: 'This store is not in a chain' }).waitFor();
    assert.equal(await op.locator('[role="alert"]').count(), 0);
    await axe(op, 'chain');
  });

  await step('a manager gives a goodwill voucher tied to a complaint', async () => {
    await op.getByRole('link', { name: 'Counter' }).click();
    await op.waitForSelector('body[data-screen="counter"][data-ready="1"]');
    await scan(op, grace);
    await op.locator('#member-name', { hasText: 'Grace Hopper' }).waitFor();
    await op.getByLabel('Score (1 to 5)').fill('2');
    await op.getByLabel('Comment (optional)').fill('Cold coffee');
    await op.getByRole('button', { name: 'Send feedback' }).click();
    await op.getByLabel('The complaint').waitFor();
    assert.equal(await op.getByLabel('The complaint').inputValue(), 'Cold coffee');
    await op.getByRole('button', { name: 'Give goodwill voucher' }).click();
    await op.getByText(/Goodwill voucher issued: \S+/).waitFor();
  });

  await step('an erasure through the back office; then the card scans as refused', async () => {
    await op.getByRole('link', { name: 'Members' }).click();
    await op.waitForSelector('body[data-screen="members"][data-ready="1"]');
    await op.getByLabel('Card, phone, email or name').fill('erin');
    await op.keyboard.press('Enter');
    await op.getByRole('heading', { name: 'Erin Erased' }).waitFor();
    await op.getByRole('table', { name: 'Points history (latest 20)' }).getByRole('cell', { name: 'earn' }).waitFor();
    await op.getByRole('button', { name: 'Record consent to marketing' }).click();
    await op.getByRole('button', { name: 'Record withdrawal of consent' }).waitFor();
    assert.equal(await op.getByRole('table', { name: 'Consent history' }).locator('tbody tr').count(), 2);
    await axe(op, 'members');
    await shot(op, 'members');
    await op.getByRole('button', { name: 'Erase this member' }).click();
    assert.equal(await op.getByText('The member was erased').count(), 0); // not without ERASE
    await op.getByLabel(/Type ERASE to confirm/).fill('ERASE');
    await op.getByRole('button', { name: 'Erase this member' }).click();
    await op.getByText('The member was erased').waitFor();
    await op.getByRole('link', { name: 'Counter' }).click();
    await op.waitForSelector('body[data-screen="counter"][data-ready="1"]');
    await scan(op, erin);
    await op.locator('[role="alert"]', { hasText: `card ${erin}` }).waitFor();
    assert.equal(await op.locator('#member-name').count(), 0);
  });
  await office.close();

  await step('chain: the stores, a double spend this store is in, and its sync', async () => {
    // head office with three stores; this store (1) redeemed a voucher by typed code above, and
    // store 2 redeemed the same voucher offline (its outbox row as its offline redemption
    // writes it): head office sees a double spend once both have shipped
    const owner = await startPostgres();
    const hq = (...args) => patron('--hq', owner, 'hq', ...args);
    hq('init');
    const names = ['Corner Café', 'Market Square', 'Station Kiosk'];
    const urls = names.map((name, i) => hq('store', 'add', String(i + 1), '--name', name).url);
    const sqlite = (file, sql) => execFileSync('sqlite3', [file, sql], { encoding: 'utf8' }).trim();
    // (as text: a voucher id is a 64-bit number, beyond a JavaScript number)
    const first = "FROM outbox WHERE kind = 'voucher_redeemed' ORDER BY store_seq LIMIT 1";
    const voucher = sqlite(db, `SELECT json_extract(payload, '$.key_id') || '/' || json_extract(payload, '$.voucher_id') ${first}`);
    const offline = sqlite(db, `SELECT json_object('key_id', json_extract(payload, '$.key_id'), 'voucher_id',
      json_extract(payload, '$.voucher_id'), 'value', json_extract(payload, '$.value'), 'offline', 1,
      'redeemed_at', CAST(strftime('%s', 'now') AS INTEGER)) ${first}`);
    assert.match(voucher, /^\d+\/-?\d+$/);
    for (const n of [2, 3]) {
      const other = join(dir, `store${n}.db`);
      const at = (...args) => JSON.parse(execFileSync(bin, ['--db', other, '--home', dir, '--printer', 'none', '--json', ...args], { encoding: 'utf8' }));
      at('init', '--store-id', String(n), '--store-name', names[n - 1]);
      at('sale', at('member', 'enroll', '--name', `Member of ${names[n - 1]}`).card, '--ref', `C${n}`, '--total', '1200');
      if (n === 2) {
        sqlite(other, `INSERT INTO outbox (store_id, kind, tbl, row_key, member_id, payload, recorded_at)
          VALUES (2, 'voucher_redeemed', 'voucher_redemptions', 1, NULL, '${offline}', CAST(strftime('%s', 'now') AS INTEGER))`);
      }
      if (n === 3) patron('--hq', urls[0], 'sync');
      at('--hq', urls[n - 1], 'sync');
    }
    const chain = await serve('--hq', urls[0]);
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const p = await ctx.newPage();
    p.on('pageerror', (e) => pageErrors.push(String(e)));
    await signIn(p, chain.url, admin);
    await p.getByRole('link', { name: 'Chain' }).click();
    await p.waitForSelector('body[data-screen="chain"][data-ready="1"]');
    assert.equal(await p.locator('#chain-stores tbody tr').count(), 3);
    await p.locator('#chain-stores tr.here', { hasText: 'Corner Café' }).getByText('(this store)').waitFor();
    await p.locator('#chain-stores td', { hasText: 'Station Kiosk' }).waitFor();
    const conflict = p.locator('#chain-conflicts tbody tr');
    assert.equal(await conflict.count(), 1);
    await conflict.getByText('voucher redeemed twice').waitFor();
    await conflict.getByText(`double spend: voucher ${voucher} (value `, { exact: false }).waitFor();
    await p.locator('#chain-sync').waitFor();
    assert.doesNotMatch(await p.locator('#main').textContent(), /_store_\d|password/);
    await axe(p, 'chain');
    await shot(p, 'chain');
    await ctx.close();
  });

  await step('an expired session is sent back to sign-in', async () => {
    const short = await serve('--session-ttl', '1');
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    await signIn(p, short.url, cashier);
    await p.waitForTimeout(1500); // past the session's one second
    await scan(p, ada);
    await p.waitForSelector('body[data-screen="sign-in"]');
    await p.getByText('The session has ended. Sign in again.').waitFor();
    await ctx.close();
  });

  assert.deepEqual(pageErrors, [], 'no script error in the page');
  assert.deepEqual(dialogs, [], 'no dialog opened');
}

try {
  if (!existsSync(browserPath)) throw new Error(`${browserPath} is missing: scripts/install-deps.sh installs chromium`);
  await main();
} catch (e) {
  failed++;
  console.log(`FAIL ${e.stack || e}`);
} finally {
  if (browser) await browser.close();
  for (const s of servers) s.kill('SIGTERM');
  stopPostgres();
  if (!failed) rmSync(dir, { recursive: true, force: true });
  else console.log(`kept ${dir}`);
}
console.log(failed ? `${failed} failed` : 'all passed');
process.exit(failed ? 1 : 0);
