// SPDX-License-Identifier: MIT
// The chain screen (manager, admin): the chain's stores and the conflicts this store is in, as
// head office lets a store read them (GET /v1/chain), and this store's sync. Not in a chain, or
// head office out of reach: a sentence saying so (the store keeps selling either way).
import { strings as S } from './strings.js';
import { call } from './api.js';
import { h, clear, message, ready } from './dom.js';
import { num, dateTime } from './fmt.js';

function table(caption, cols, rows, id) {
  return h('table', { id }, h('caption', {}, caption),
    h('thead', {}, h('tr', {}, cols.map(([label]) => h('th', { scope: 'col' }, label)))),
    h('tbody', {}, rows.map((r) => h('tr', r.here ? { class: 'here' } : {}, cols.map(([, f]) => h('td', {}, f(r)))))));
}

function storesTable(res) {
  const rows = (res.stores || []).map((st) => ({ ...st, here: st.store_id === res.store_id }));
  return table(S.chainStoresTitle, [
    [S.chainStore, (st) => (st.here ? [st.name, ' ', h('strong', {}, S.chainHere)] : st.name)],
    [S.chainStoreId, (st) => num(st.store_id)],
    [S.chainLastSync, (st) => (st.last_sync ? dateTime(st.last_sync) : S.chainNever)],
    [S.chainLag, (st) => (st.lag_seconds === null || st.lag_seconds === undefined ? '' : S.chainSeconds(num(st.lag_seconds)))],
    [S.chainProgram, (st) => (st.program_version === 'none' ? S.chainNoProgram : num(Number(st.program_version)))],
  ], rows, 'chain-stores');
}

function conflictsPart(res) {
  const list = res.conflicts || [];
  if (!list.length) return h('p', { id: 'chain-no-conflicts' }, S.chainNoConflicts);
  return table(S.chainConflictsCaption, [
    [S.chainConflictKind, (k) => S.chainKinds[k.type] || k.type],
    [S.chainConflictWhat, (k) => k.sentence],
  ], list, 'chain-conflicts');
}

function syncPart(sync) {
  if (!sync) return h('p', {}, S.chainSyncUnknown);
  return h('dl', { class: 'facts', id: 'chain-sync' },
    h('dt', {}, S.chainSyncState), h('dd', {}, S.chainSyncStates[sync.state] || sync.state),
    h('dt', {}, S.chainPending), h('dd', {}, num(sync.pending)),
    h('dt', {}, S.chainLag), h('dd', {}, S.chainSeconds(num(sync.lag_seconds))),
    h('dt', {}, S.chainLastSuccess), h('dd', {}, sync.last_success ? dateTime(sync.last_success) : S.chainNever),
    sync.last_error ? [h('dt', {}, S.chainLastError), h('dd', {}, S.chainSyncError(sync.last_error))] : null);
}

export function chainScreen(main) {
  const msg = message();
  const out = h('div', { 'aria-live': 'polite' });
  async function load() {
    try {
      const res = await call('GET', '/v1/chain');
      if (!res.in_chain) {
        clear(out, h('p', { id: 'chain-none' }, S.chainNone));
        return;
      }
      clear(out, h('div', { class: 'part' }, storesTable(res)),
        h('div', { class: 'part' }, h('h2', {}, S.chainConflictsTitle), h('p', { class: 'help' }, S.chainConflictsHelp),
          conflictsPart(res)),
        h('div', { class: 'part' }, h('h2', {}, S.chainSyncTitle), syncPart(res.sync)));
    } catch (e) { msg.fail(e.message); }
  }
  clear(main, h('section', { class: 'panel', 'aria-labelledby': 'chain-title' },
    h('h1', { id: 'chain-title' }, S.chainTitle), msg.el, out));
  load().then(ready);
}
