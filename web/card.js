// SPDX-License-Identifier: MIT
// Card numbers as the library reads them (src/core/card.c): 13 digits starting with 29, the last
// a GS1 mod-10 check digit; spaces and dashes are ignored.
export function cardDigits(text) { return String(text).replace(/[\s-]/g, ''); }

export function checkDigit(first12) {
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += Number(first12[i]) * (i % 2 ? 3 : 1);
  return String((10 - (sum % 10)) % 10);
}

// 'partial' while typing, 'ok', 'bad-check', 'bad-prefix' or 'bad-chars'.
export function cardState(text) {
  const d = cardDigits(text);
  if (!/^\d*$/.test(d)) return 'bad-chars';
  if (d.length >= 2 && !d.startsWith('29')) return 'bad-prefix';
  if (d.length < 13) return 'partial';
  if (d.length > 13) return 'bad-chars';
  return checkDigit(d) === d[12] ? 'ok' : 'bad-check';
}
