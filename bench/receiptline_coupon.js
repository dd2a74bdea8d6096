// SPDX-License-Identifier: MIT
// Renders the coupon document (stdin, from `bench_coupon --document`) N times with the npm
// receiptline package as ESC/POS for a 48-column printer, with a fresh token each time, and
// prints coupons per second and bytes per coupon in the same form as bench_coupon.
'use strict';
const receiptline = require('receiptline');

const n = Number(process.argv[2] || 300);
const doc = require('fs').readFileSync(0, 'utf8');
const token = doc.match(/\{code:(\d{243});/)[1];
const printer = { cpl: 48, encoding: 'cp858', command: 'escpos', cutting: false };

let bytes = 0;
const t0 = process.hrtime.bigint();
for (let i = 0; i < n; i++) {
  const fresh = (BigInt('1' + token) + BigInt(i)).toString().slice(1);
  bytes += receiptline.transform(doc.replace(token, fresh), printer).length;
}
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(`receiptline_coupons_per_sec ${(n / secs).toFixed(0)}`);
console.log(`receiptline_bytes_per_coupon ${(bytes / n).toFixed(0)}`);
