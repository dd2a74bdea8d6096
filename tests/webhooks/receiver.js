// SPDX-License-Identifier: MIT
// A local Standard Webhooks receiver for Patron's webhook tests. It verifies EVERY signature of
// every request: v1 (HMAC-SHA256) with the npm package `standardwebhooks`, v1a (Ed25519) with
// node's own crypto, and records each request as one JSON line. Its behaviour per endpoint path
// is read from a control file at each request, so a test can change it while it runs.
//
// usage: node receiver.js DIR
//   DIR/port       written once listening (the port, then a newline)
//   DIR/keys.json  {"/path": {"secrets": ["whsec_..."], "public_keys": ["whpk_..."]}}
//   DIR/mode.json  {"/path": "ok" | "fail" | "gone" | "hold" | "retry-after"} (default ok)
//   DIR/release    while "hold" applies, a request is held until this file exists
//   DIR/log.jsonl  one line per request: {path, id, timestamp, verified, v1, v1a, status, body}
//   DIR/holding    written when a request starts being held
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const path = require('path');
const { Webhook } = require('standardwebhooks');

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: node receiver.js DIR\n');
  process.exit(64);
}

function readJson(name) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
  } catch (e) {
    return {};
  }
}

// Every v1 signature must verify with one of the path's HMAC secrets (through standardwebhooks,
// which also checks the timestamp), and every v1a one with one of its Ed25519 public keys.
function verify(keys, body, headers) {
  const sigs = (headers['webhook-signature'] || '').split(' ').filter((s) => s.length > 0);
  const result = { v1: 0, v1a: 0, ok: sigs.length > 0 };
  for (const sig of sigs) {
    const [version, value] = sig.split(',');
    if (version === 'v1') {
      const one = { ...headers, 'webhook-signature': sig };
      const good = (keys.secrets || []).some((secret) => {
        try {
          new Webhook(secret).verify(body, one);
          return true;
        } catch (e) {
          return false;
        }
      });
      result.v1 += good ? 1 : 0;
      result.ok = result.ok && good;
    } else if (version === 'v1a') {
      const content = Buffer.from(
        `${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`,
      );
      const good = (keys.public_keys || []).some((pk) => {
        const raw = Buffer.from(pk.replace(/^whpk_/, ''), 'base64');
        const der = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]);
        const key = crypto.createPublicKey({ key: der, format: 'der', type: 'spki' });
        return crypto.verify(null, content, key, Buffer.from(value, 'base64'));
      });
      const skew = Math.abs(Date.now() / 1000 - Number(headers['webhook-timestamp']));
      result.v1a += good && skew < 300 ? 1 : 0;
      result.ok = result.ok && good && skew < 300;
    } else {
      result.ok = false;
    }
  }
  return result;
}

function answer(res, mode) {
  if (mode === 'fail') {
    res.writeHead(500);
  } else if (mode === 'gone') {
    res.writeHead(410);
  } else if (mode === 'retry-after') {
    res.writeHead(503, { 'Retry-After': '3600' });
  } else {
    res.writeHead(200, { 'Content-Type': 'application/json' });
  }
  res.end('{}');
}

function holdThenAnswer(res, mode) {
  fs.writeFileSync(path.join(dir, 'holding'), '1');
  const poll = setInterval(() => {
    if (fs.existsSync(path.join(dir, 'release'))) {
      clearInterval(poll);
      answer(res, mode);
    }
  }, 20);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const keys = readJson('keys.json')[req.url] || {};
    const mode = readJson('mode.json')[req.url] || 'ok';
    const v = verify(keys, body, req.headers);
    let parsed = null;
    try {
      parsed = JSON.parse(body);
    } catch (e) {
      parsed = null;
    }
    const status = { fail: 500, gone: 410, 'retry-after': 503 }[mode] || 200;
    const line = {
      path: req.url,
      id: req.headers['webhook-id'],
      timestamp: req.headers['webhook-timestamp'],
      signature: req.headers['webhook-signature'],
      verified: v.ok,
      v1: v.v1,
      v1a: v.v1a,
      status,
      body: parsed,
      raw: body,
    };
    fs.appendFileSync(path.join(dir, 'log.jsonl'), JSON.stringify(line) + '\n');
    if (mode === 'hold') {
      holdThenAnswer(res, 'ok');
    } else {
      answer(res, mode);
    }
  });
});

// A fixed port may be given (to come back on the same one after a stop), else any free one.
server.listen(Number(process.argv[3] || 0), '127.0.0.1', () => {
  const tmp = path.join(dir, 'port.tmp');
  fs.writeFileSync(tmp, `${server.address().port}\n`);
  fs.renameSync(tmp, path.join(dir, 'port'));
});
