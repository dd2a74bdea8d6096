// SPDX-License-Identifier: MIT
// Building elements: text always goes in as text nodes (never markup), so a member's name that
// holds "<img onerror=...>" shows as those characters.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

// A labelled field: <label for=id>text</label><input id=id ...>.
let seq = 0;
export function field(label, attrs = {}, help) {
  const id = attrs.id || `f${++seq}`;
  const input = h(attrs.tag || 'input', { ...attrs, tag: undefined, id, 'aria-describedby': help ? `${id}-help` : undefined });
  const wrap = h('div', { class: 'field' }, h('label', { for: id }, label), input,
    help ? h('p', { class: 'help', id: `${id}-help` }, help) : null);
  return { wrap, input };
}

// A message area that says what happened: role=status for success, role=alert for a refusal.
export function message() {
  const el = h('p', { class: 'msg', 'aria-live': 'polite' });
  return {
    el,
    ok(text) { el.className = 'msg ok'; el.setAttribute('role', 'status'); el.textContent = text; },
    fail(text) { el.className = 'msg fail'; el.setAttribute('role', 'alert'); el.textContent = text; },
    clear() { el.className = 'msg'; el.textContent = ''; el.removeAttribute('role'); },
  };
}

// The screen is ready for input: marked on the body (the browser tests wait for it), and the
// first time, how long after navigation (the time-to-first-scan the tests measure).
export function ready() {
  if (!document.body.dataset.readyAt) document.body.dataset.readyAt = String(Math.round(performance.now()));
  document.body.dataset.ready = '1';
}
