// SPDX-License-Identifier: MIT
// Charts drawn on the page from the report JSON the API serves: inline SVG built with DOM calls
// (no library, no markup strings, no inline style: the CSP allows neither), each an image with
// a name for screen readers, its numbers in the store's locale and its table beside it.
import { strings as S } from './strings.js';
import { num } from './fmt.js';

const NS = 'http://www.w3.org/2000/svg';
const W = 720;
const H = 260;
const PAD = { l: 64, r: 16, t: 16, b: 56 };
const COLOURS = ['#0b5177', '#c2571a', '#3b7d23']; // at least 3:1 against white and each other

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function frame(label, height = H) {
  return svg('svg', { viewBox: `0 0 ${W} ${height}`, role: 'img', 'aria-label': label, class: 'chart', width: W, height },
    svg('title', {}, label));
}

// The top of the value axis: 1, 2, 4, 6, 8 or 10 times a power of ten, so that its quarters read
// as round numbers.
function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 4, 6, 8, 10].map((m) => m * p).find((m) => m >= v);
}

const pct = (v) => `${num(Math.round(v * 1000) / 10)}%`;

// Bars per row for one or more series, with a value axis from 0 and each row labelled below.
export function bars(title, rows, labelKey, series, fmt = num) {
  const out = frame(title);
  const max = niceMax(Math.max(0, ...rows.flatMap((r) => series.map(([k]) => Number(r[k]) || 0))));
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const band = iw / Math.max(1, rows.length);
  const bw = Math.max(2, (band * 0.8) / series.length);
  for (let i = 0; i <= 4; i++) { // gridlines and the value axis
    const y = PAD.t + ih - (ih * i) / 4;
    out.append(svg('line', { x1: PAD.l, x2: W - PAD.r, y1: y, y2: y, class: 'grid' }),
      svg('text', { x: PAD.l - 6, y: y + 4, 'text-anchor': 'end', class: 'tick' }, fmt((max * i) / 4)));
  }
  rows.forEach((r, i) => {
    series.forEach(([k, name], j) => {
      const v = Number(r[k]) || 0;
      const h = (ih * v) / max;
      out.append(svg('rect', { x: PAD.l + band * i + band * 0.1 + bw * j, y: PAD.t + ih - h, width: bw, height: h, fill: COLOURS[j % COLOURS.length] },
        svg('title', {}, `${r[labelKey]} · ${name}: ${fmt(v)}`)));
    });
    const every = Math.ceil(rows.length / 12); // at most 12 labels: readable at 720 px
    if (i % every === 0) {
      out.append(svg('text', { x: PAD.l + band * i + band / 2, y: H - PAD.b + 18, 'text-anchor': 'middle', class: 'tick' }, r[labelKey]));
    }
  });
  if (series.length > 1) { // the legend
    series.forEach(([, name], j) => out.append(
      svg('rect', { x: PAD.l + j * 180, y: H - 22, width: 12, height: 12, fill: COLOURS[j % COLOURS.length] }),
      svg('text', { x: PAD.l + j * 180 + 18, y: H - 12, class: 'tick' }, name)));
  }
  return out;
}

// The retention cohorts as a heat map: a row per enrolment month, a column per month since,
// the share buying in the cell (darker is more) with the percentage written in it.
export function heatMap(title, rows, cols) {
  const cw = 56; // wide enough for "+10 mo" and "+11 mo" side by side
  const ch = 26;
  const left = 150;
  const top = 30;
  const height = top + ch * rows.length + 10;
  const out = frame(title, height);
  out.setAttribute('viewBox', `0 0 ${left + cw * cols.length + 10} ${height}`);
  out.setAttribute('width', left + cw * cols.length + 10);
  cols.forEach((c, j) => out.append(svg('text', { x: left + cw * j + cw / 2, y: top - 10, 'text-anchor': 'middle', class: 'tick' }, S.chartMonthsOn(j))));
  rows.forEach((r, i) => {
    const y = top + ch * i;
    out.append(svg('text', { x: left - 8, y: y + ch / 2 + 4, 'text-anchor': 'end', class: 'tick' }, S.chartCohort(r.cohort, num(r.members))));
    cols.forEach((c, j) => {
      const v = r[c];
      const x = left + cw * j;
      if (v === null || v === undefined) {
        out.append(svg('rect', { x, y, width: cw - 2, height: ch - 2, class: 'empty' }));
        return;
      }
      // 95% light (none) to 50% (all): black text stays above 4.5:1 on every cell
      const light = 95 - Math.round(Math.min(1, v) * 45);
      out.append(svg('rect', { x, y, width: cw - 2, height: ch - 2, fill: `hsl(205 70% ${light}%)` },
        svg('title', {}, `${r.cohort} · ${S.chartMonthsOn(j)}: ${pct(v)}`)),
      svg('text', { x: x + cw / 2 - 1, y: y + ch / 2 + 4, 'text-anchor': 'middle', class: 'cell' }, pct(v)));
    });
  });
  return out;
}

// The chart of each report that has one, from its JSON; null for the others.
export function chartOf(name, t) {
  // a "total" row is in the table, not among the bars it would dwarf
  const rows = (t.rows || []).filter((r) => r.month !== 'total' && r.cohort !== 'total');
  const title = S.reportChart(t.title || name);
  switch (name) {
    case 'liability':
      return bars(title, [{ what: S.chartOutstanding, v: t.points }, { what: S.chartOwed, v: t.owed_points }], 'what', [['v', S.points]]);
    case 'retention':
      return heatMap(title, rows, (t.columns || []).filter((c) => /^m\d+$/.test(c)));
    case 'redemption':
      return bars(title, rows, 'month', [['issued', S.chartIssued], ['redeemed', S.chartRedeemed]]);
    case 'satisfaction':
      return bars(title, rows, 'month', [['avg_score', S.chartAvgScore]], (v) => num(Math.round(v * 10) / 10));
    case 'offers':
      return bars(title, rows, 'name', [['uplift', S.chartUplift]], (v) => num(Math.round(v * 100) / 100));
    case 'rfm':
      return bars(title, rows.map((r) => ({ ...r, label: S.rfmNames[r.segment] || r.segment })), 'label', [['members', S.chartMembers]]);
    default:
      return null;
  }
}
