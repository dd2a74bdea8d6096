// SPDX-License-Identifier: MIT
// Calls to the counter service with the session cookie (sent by the browser) and the CSRF token
// on every change. A refusal becomes an ApiError carrying the problem document's sentence.
import { strings } from './strings.js';

let csrf = null;
let onSignedOut = () => {};

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || strings.unexpected);
    this.status = status;
    this.problem = problem || {};
  }
}

export function setCsrf(token) { csrf = token; }
export function onSessionEnd(fn) { onSignedOut = fn; }

function key() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export async function call(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  if (opts.idempotent) headers['Idempotency-Key'] = opts.key || key();
  let res;
  try {
    res = await fetch(path, {
      method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, { detail: strings.networkDown });
  }
  const type = res.headers.get('Content-Type') || '';
  const data = type.includes('json') ? await res.json().catch(() => null) : null;
  if (!res.ok) {
    if (res.status === 401 && !opts.signingIn) onSignedOut();
    throw new ApiError(res.status, data);
  }
  return data;
}
