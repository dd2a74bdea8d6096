// SPDX-License-Identifier: MIT
// Numbers, money and dates in the store's locale, through Intl.
let locale = 'en-GB';
let currency = 'EUR';

export function setLocale(tag, cur) {
  try {
    new Intl.NumberFormat(tag);
    locale = tag;
  } catch (e) {
    locale = 'en-GB';
  }
  if (cur) currency = cur;
}
export function getLocale() { return locale; }
export function num(n) { return new Intl.NumberFormat(locale).format(n); }
export function money(minor) {
  return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(minor / 100);
}
export function date(iso) {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium' }).format(new Date(iso));
}
export function dateTime(iso) {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}
// "3.20" or "3,20" in the store's money: minor units, or NaN.
export function parseMoney(text) {
  const t = String(text).trim().replace(',', '.');
  if (!/^\d+(\.\d{1,2})?$/.test(t)) return NaN;
  const [whole, frac = ''] = t.split('.');
  return Number(whole) * 100 + Number((frac + '00').slice(0, 2));
}
