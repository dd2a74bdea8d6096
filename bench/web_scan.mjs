// SPDX-License-Identifier: MIT
// web_scan_p95_ms: from Enter in the counter screen's card field to the member panel drawn,
// over 200 scans in Debian's chromium (playwright-core from web/test), against `patron serve
// --demo` on loopback. Prints one line "web_scan_p95_ms N" (and the median) for bench/run.
// Usage: PATRON_BIN=build-bench/patron node bench/web_scan.mjs [SCANS]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', 'web', 'test', 'package.json'));
const { chromium } = require('playwright-core');
const scans = Number(process.argv[2] || 200);
const dir = mkdtempSync(join(tmpdir(), 'patron-webbench-'));
const child = spawn(process.env.PATRON_BIN || 'build-bench/patron', ['--db', join(dir, 'p.db'), '--home', dir,
  '--printer', 'none', 'serve', '--demo', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
const started = new Promise((resolve) => child.stdout.on('data', (d) => {
  out += d;
  if (/listening on http\S+\n/.test(out)) resolve();
}));
await started;
const url = out.match(/listening on (http\S+)/)[1];
const token = out.match(/demo till token .*: (ptk_\S+)/)[1];
const cards = [...out.matchAll(/card (\d{13})/g)].map((m) => m[1]);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage();
  await page.goto(url);
  await page.getByLabel('Till token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForSelector('body[data-screen="counter"][data-ready="1"]');
  const field = page.getByLabel('Card', { exact: true });
  const times = [];
  for (let i = 0; i < scans; i++) {
    await field.fill(cards[i % cards.length]);
    await field.press('Enter');
    await page.waitForFunction((n) => Number(document.body.dataset.scans) === n, i + 1);
    times.push(Number(await page.evaluate(() => document.body.dataset.lastScanMs)));
  }
  times.sort((a, b) => a - b);
  const at = (q) => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)];
  console.log(`web scans ${scans}, median ${at(0.5).toFixed(2)} ms`);
  console.log(`web_scan_p95_ms ${at(0.95).toFixed(2)}`);
} finally {
  await browser.close();
  child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
