// hr-proxy against a fake upstream, driven by the official SDKs (npm openai,
// @anthropic-ai/sdk) and by raw fetch. Everything runs on loopback; prints
// "ok NAME" / "not ok NAME: why" lines for scripts/run-tests.
//   node scripts/node/proxy-test.mjs BUILD_DIR
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { proxyStarter, sleep } from './proxy-harness.mjs';

const build = process.argv[2] || 'build/release';
const proxyBin = path.resolve(build, 'hr-proxy');
const compressBin = path.resolve(build, 'hr-compress');
const sanitized = path.basename(path.resolve(build)) === 'asan';
const scenarios = 'testdata/hr-compress/scenarios';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'hr-proxy-test-'));
let failures = 0;
const ok = (name) => console.log(`ok proxy: ${name}`);
const notOk = (name, why) => { failures++; console.log(`not ok proxy: ${name}: ${why}`); };
async function check(name, fn) {
  try { await fn(); ok(name); } catch (e) { notOk(name, String(e && e.stack ? e.message : e).split('\n')[0]); }
}
function assert(cond, msg) { if (!cond) throw new Error(msg); }

// ---- the fake upstream ------------------------------------------------------------
const seen = []; // {method, url, headers, body, t}
let lastChunkSentAt = 0, upstreamClosedEarly = false;
const sse = (res, events, gap, onDone) => {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let i = 0;
  const t = setInterval(() => {
    if (res.destroyed) { clearInterval(t); return; }
    res.write(events[i]);
    if (++i === events.length) { clearInterval(t); lastChunkSentAt = Date.now(); res.end(); if (onDone) onDone(); }
  }, gap);
  res.on('close', () => { if (i < events.length) upstreamClosedEarly = true; clearInterval(t); });
};
const anthropicEvents = (text) => {
  const ev = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  return [ev('message_start', { message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5',
    content: [], stop_reason: null, usage: { input_tokens: 10, output_tokens: 0 } } }),
  ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  ...text.split(' ').map((w, i) => ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: (i ? ' ' : '') + w } })),
  ev('content_block_stop', { index: 0 }),
  ev('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 5 } }),
  ev('message_stop', {})];
};
const chatEvents = (text) => [...text.split(' ').map((w, i) => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk',
  created: 1, model: 'gpt-4o', choices: [{ index: 0, delta: { content: (i ? ' ' : '') + w }, finish_reason: null }] })}\n\n`),
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o',
    choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`, 'data: [DONE]\n\n'];
const responsesEvents = (text) => {
  const ev = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  const resp = { id: 'resp_1', object: 'response', status: 'completed', model: 'gpt-5-codex', output: [{ type: 'message',
    id: 'm1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text, annotations: [] }] }] };
  return [ev('response.created', { response: { ...resp, status: 'in_progress', output: [] } }),
    ...text.split(' ').map((w, i) => ev('response.output_text.delta', { item_id: 'm1', output_index: 0, content_index: 0,
      delta: (i ? ' ' : '') + w })),
    ev('response.completed', { response: resp })];
};
const TEXT = 'the answer is forty two';
const upstream = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (d) => chunks.push(d));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    seen.push({ method: req.method, url: req.url, headers: req.headers, body, t: Date.now() });
    let json = {};
    try { json = JSON.parse(body.toString() || '{}'); } catch { json = {}; }
    const u = req.url;
    if (u.startsWith('/slow')) return; // never answers: the proxy must time out
    if (u.startsWith('/flood')) return flood(res); // as fast as the proxy takes it
    if (u.startsWith('/cut')) { // one event, then the connection dies mid-stream
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: message_start\ndata: {}\n\n');
      return setTimeout(() => res.socket.destroy(), 100);
    }
    if (u.startsWith('/v1/messages/count_tokens')) return send(res, { input_tokens: 42 });
    if (u.startsWith('/v1/messages')) {
      if (json.stream) return sse(res, anthropicEvents(TEXT), json.metadata?.user_id === 'slow' ? 400 : 60);
      return send(res, { id: 'msg_1', type: 'message', role: 'assistant', model: json.model, stop_reason: 'end_turn',
        content: [{ type: 'text', text: TEXT }], usage: { input_tokens: 10, output_tokens: 5 } }, { 'request-id': 'req_up_1' });
    }
    if (u.startsWith('/v1/chat/completions')) {
      if (json.stream) return sse(res, chatEvents(TEXT), 60);
      return send(res, { id: 'c1', object: 'chat.completion', created: 1, model: json.model, choices: [{ index: 0,
        message: { role: 'assistant', content: TEXT }, finish_reason: 'stop' }] });
    }
    if (u.startsWith('/v1/responses') || u.startsWith('/backend-api/codex/responses')) {
      if (json.stream) return sse(res, responsesEvents(TEXT), 60);
      return send(res, { id: 'resp_1', object: 'response', status: 'completed', model: json.model, output: [{ type: 'message',
        id: 'm1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: TEXT, annotations: [] }] }] });
    }
    send(res, { error: { message: 'no such route ' + u } }, {}, 404);
  });
});
// 64 MB of SSE, written only as fast as the socket drains: how much got
// written tells whether the proxy held the upstream back for a slow client.
let floodWritten = 0;
function flood(res) {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const chunk = Buffer.from(`data: ${'x'.repeat(65536 - 8)}\n\n`);
  floodWritten = 0;
  const pump = () => {
    while (floodWritten < 64 << 20) {
      floodWritten += chunk.length;
      if (!res.write(chunk)) return res.once('drain', pump);
    }
    res.end();
  };
  res.on('close', () => res.removeAllListeners('drain'));
  pump();
}

function send(res, obj, headers = {}, status = 200) {
  const b = Buffer.from(JSON.stringify(obj));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': b.length, ...headers });
  res.end(b);
}

// ---- the proxy -------------------------------------------------------------------
const startProxy = proxyStarter(proxyBin, tmp);

await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
const up = `http://127.0.0.1:${upstream.address().port}`;
const urls = ['--anthropic-api-url', up, '--openai-api-url', up, '--chatgpt-api-url', `${up}/backend-api/codex`];
const px = await startProxy([...urls, '--upstream-timeout', '2']);
const lastSeen = () => seen[seen.length - 1];

const API_KEY = 'sk-ant-api03-testkey-0123456789';
const OAUTH = 'sk-ant-oat01-testoauth-abcdef';
const BETA = 'oauth-2025-04-20,prompt-caching-2024-07-31';

await check('health answers exactly {"status":"healthy"}', async () => {
  const r = await fetch(`${px.url}/health`);
  assert(r.status === 200, `status ${r.status}`);
  assert((await r.text()) === '{"status":"healthy"}', 'body differs');
});

// What the SDK sends straight to the upstream, header for header, is what the
// upstream gets through the proxy (Host and Content-Length aside).
const endToEnd = (h) => Object.fromEntries(Object.entries(h).filter(([k]) =>
  !['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding'].includes(k)));
const sameHeaders = (direct, proxied) => {
  const a = endToEnd(direct), b = endToEnd(proxied);
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)]))
    if (k !== 'x-stainless-retry-count' && a[k] !== b[k]) return `${k}: direct "${a[k]}", proxied "${b[k]}"`;
  return null;
};

await check('Anthropic SDK, API key: answer intact; every header the SDK sends (credentials, anthropic-version, anthropic-beta, user agent) reaches upstream unchanged', async () => {
  const call = (baseURL) => new Anthropic({ apiKey: API_KEY, baseURL, defaultHeaders: { 'anthropic-beta': BETA } })
    .messages.create({ model: 'claude-opus-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'hello' }] });
  await call(up);
  const direct = lastSeen();
  const msg = await call(px.url);
  assert(msg.content[0].text === TEXT, 'text differs');
  const s = lastSeen();
  assert(s.url === '/v1/messages', `upstream path ${s.url}`);
  const diff = sameHeaders(direct.headers, s.headers);
  assert(!diff, diff);
  assert(JSON.stringify(s.headers).includes(API_KEY), 'the API key did not reach the upstream');
  assert(s.headers['anthropic-beta'] === BETA && s.headers['anthropic-version'], 'anthropic headers lost');
});

await check('Anthropic SDK, OAuth token: Authorization Bearer sk-ant-oat... reaches upstream unchanged', async () => {
  const client = new Anthropic({ authToken: OAUTH, apiKey: null, baseURL: px.url, defaultHeaders: { 'anthropic-beta': BETA } });
  await client.messages.create({ model: 'claude-opus-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
  const s = lastSeen();
  assert(s.headers.authorization === `Bearer ${OAUTH}`, `authorization ${s.headers.authorization}`);
  assert(!s.headers['x-api-key'], 'an x-api-key appeared');
  assert(s.headers['anthropic-beta'] === BETA, 'anthropic-beta changed');
});

await check('Anthropic SDK streaming: events arrive intact, the first before the upstream sends the last', async () => {
  const client = new Anthropic({ apiKey: API_KEY, baseURL: px.url });
  const stream = await client.messages.create({ model: 'claude-opus-4-6', max_tokens: 64, stream: true,
    metadata: { user_id: 'slow' }, messages: [{ role: 'user', content: 'stream please' }] });
  let text = '', firstAt = 0;
  for await (const ev of stream) {
    if (!firstAt) firstAt = Date.now();
    if (ev.type === 'content_block_delta') text += ev.delta.text;
  }
  assert(text === TEXT, `text "${text}"`);
  assert(firstAt && firstAt < lastChunkSentAt, `first event at ${firstAt}, upstream's last chunk at ${lastChunkSentAt}`);
});

await check('count_tokens is forwarded', async () => {
  const r = await fetch(`${px.url}/v1/messages/count_tokens`, { method: 'POST', headers: { 'x-api-key': API_KEY,
    'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
  body: JSON.stringify({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] }) });
  assert((await r.json()).input_tokens === 42, 'wrong answer');
  assert(lastSeen().url === '/v1/messages/count_tokens', 'wrong path');
});

await check('OpenAI SDK chat, non-stream and stream: answers intact; Authorization, OpenAI-Organization, OpenAI-Project unchanged', async () => {
  const make = (base) => new OpenAI({ apiKey: 'sk-proj-abc123', organization: 'org-hr', project: 'proj_hr', baseURL: `${base}/v1` });
  await make(up).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
  const direct = lastSeen();
  const client = make(px.url);
  const c = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
  assert(c.choices[0].message.content === TEXT, 'text differs');
  const s = lastSeen();
  const diff = sameHeaders(direct.headers, s.headers);
  assert(!diff, diff);
  assert(s.headers.authorization === 'Bearer sk-proj-abc123', 'authorization changed');
  assert(s.headers['openai-organization'] === 'org-hr' && s.headers['openai-project'] === 'proj_hr', 'org/project changed');
  const stream = await client.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] });
  let text = '';
  for await (const ch of stream) text += ch.choices[0]?.delta?.content || '';
  assert(text === TEXT, `stream text "${text}"`);
});

const jwt = (claims) => ['{"alg":"RS256","typ":"JWT"}', JSON.stringify(claims), 'sig']
  .map((p, i) => (i < 2 ? Buffer.from(p).toString('base64url') : p)).join('.');
const CHATGPT_JWT = jwt({ sub: 'user-1', 'https://api.openai.com/auth': { chatgpt_account_id: 'acct-123', chatgpt_plan_type: 'plus' } });

await check('Responses with a ChatGPT-account JWT go to the Codex upstream, with chatgpt-account-id unchanged', async () => {
  const client = new OpenAI({ apiKey: CHATGPT_JWT, baseURL: px.url, defaultHeaders: { 'chatgpt-account-id': 'acct-123' } });
  const r = await client.responses.create({ model: 'gpt-5-codex', input: 'hi' });
  assert(r.output_text === TEXT, `output_text ${r.output_text}`);
  const s = lastSeen();
  assert(s.url === '/backend-api/codex/responses', `upstream path ${s.url}`);
  assert(s.headers.authorization === `Bearer ${CHATGPT_JWT}`, 'authorization changed');
  assert(s.headers['chatgpt-account-id'] === 'acct-123', 'chatgpt-account-id changed');
});

await check('Responses streaming with the JWT alone (no header) also go to Codex', async () => {
  const client = new OpenAI({ apiKey: CHATGPT_JWT, baseURL: px.url });
  const stream = await client.responses.create({ model: 'gpt-5-codex', input: 'hi', stream: true });
  let text = '';
  for await (const ev of stream) if (ev.type === 'response.output_text.delta') text += ev.delta;
  assert(text === TEXT, `text "${text}"`);
  assert(lastSeen().url === '/backend-api/codex/responses', `upstream path ${lastSeen().url}`);
});

await check('Responses with an API key go to OpenAI /v1/responses', async () => {
  const client = new OpenAI({ apiKey: 'sk-proj-abc123', baseURL: `${px.url}/v1` });
  await client.responses.create({ model: 'gpt-5', input: 'hi' });
  assert(lastSeen().url === '/v1/responses', `upstream path ${lastSeen().url}`);
});

const rawPost = (url, body, headers = {}, signal) => fetch(url, { method: "POST", body, signal,
  headers: { 'content-type': 'application/json', ...headers } });

await check('a short request arrives byte-identical', async () => {
  const body = readFileSync(`${scenarios}/short-anthropic.json`);
  const r = await rawPost(`${px.url}/v1/messages`, body, { 'x-api-key': API_KEY });
  assert(r.status === 200, `status ${r.status}`);
  assert(Buffer.compare(lastSeen().body, body) === 0, 'the body changed');
});

// Token mode (rolling): the proxy applies libhr's compression exactly as hr-compress does.
const pxt = await startProxy([...urls, '--mode', 'token']);
for (const [file, route] of [['long-anthropic.json', '/v1/messages'], ['long-chat.json', '/v1/chat/completions'],
  ['long-responses.json', '/v1/responses']]) {
  await check(`${file}, token mode: arrives compressed exactly as hr-compress does it, log holds its tokens_saved and their split`, async () => {
    const body = readFileSync(`${scenarios}/${file}`);
    const r = await rawPost(`${pxt.url}${route}`, body, { authorization: 'Bearer sk-test' });
    await r.arrayBuffer();
    const env = { ...process.env, HEADROOM_HOME: '/nonexistent' };
    const want = execFileSync(compressBin, ['--mode', 'token', `${scenarios}/${file}`], { env });
    const stats = JSON.parse(execFileSync('sh', ['-c', `"${compressBin}" --mode token --json-stats "${scenarios}/${file}" 2>&1 >/dev/null`],
      { env }).toString());
    assert(Buffer.compare(lastSeen().body, want) === 0, `upstream got ${lastSeen().body.length} bytes, hr-compress gives ${want.length}`);
    await sleep(50);
    const rec = pxt.log().filter((l) => l.path === route).pop();
    assert(rec && rec.tokens_saved === stats.tokens_saved && rec.tokens_before === stats.tokens_before,
      `log says ${rec && rec.tokens_before}/${rec && rec.tokens_saved}, hr-compress ${stats.tokens_before}/${stats.tokens_saved}`);
    assert(rec.saved_lossless === stats.saved_lossless && rec.saved_lossy === stats.saved_lossy &&
      rec.saved_lossless > 0 && rec.saved_lossy > 0 && rec.saved_lossless + rec.saved_lossy === rec.tokens_saved,
      `log splits ${rec.saved_lossless}+${rec.saved_lossy}, hr-compress ${stats.saved_lossless}+${stats.saved_lossy}`);
  });
}

// Cache mode (the default): a conversation the proxy first sees with its tool
// results already sent, ending in a question, goes as it came: those results
// went to the provider before hr was in the path, and are cached there so.
for (const [file, route] of [['long-anthropic.json', '/v1/messages'], ['long-chat.json', '/v1/chat/completions'],
  ['long-responses.json', '/v1/responses']]) {
  await check(`${file}, cache mode, first seen: results sent before hr was in the path go as they came`, async () => {
    const body = readFileSync(`${scenarios}/${file}`);
    const r = await rawPost(`${px.url}${route}`, body, { authorization: 'Bearer sk-test' });
    await r.arrayBuffer();
    assert(Buffer.compare(lastSeen().body, body) === 0, `upstream got ${lastSeen().body.length} bytes, the body has ${body.length}`);
  });
}

await check('fail open: a body hr cannot parse goes upstream unchanged and the log says why', async () => {
  const body = Buffer.from('{"model": "claude-sonnet-4-5", "messages": [ {"role": "user", "content": "unterminated }]}');
  const r = await rawPost(`${px.url}/v1/messages`, body, { 'x-api-key': API_KEY });
  await r.arrayBuffer();
  assert(Buffer.compare(lastSeen().body, body) === 0, 'the body changed');
  await sleep(50);
  const rec = px.log().pop();
  assert(/compression failed/.test(rec.error || ''), `log error ${rec.error}`);
});

await check('504 in the provider\'s error format when the upstream does not answer, after upstream_timeout (2 s), not seconds later', async () => {
  const t0 = Date.now();
  const r = await rawPost(`${px.url}/slow`, '{}', { 'x-api-key': API_KEY });
  const waited = (Date.now() - t0) / 1000;
  assert(r.status === 504, `status ${r.status}`);
  // curl's low-speed check answered 2 s or more late; a loaded machine may add a little, never a second
  assert(waited >= 1.9 && waited < 3.3, `answered after ${waited} s`);
  const j = await r.json();
  assert(j.type === 'error' && j.error.type === 'upstream_timeout', JSON.stringify(j));
});

// A client that starts a slow stream, reads its first chunk and hangs up.
const hangUpMidStream = async (url) => {
  const ac = new AbortController();
  const r = await rawPost(`${url}/v1/messages`, JSON.stringify({ model: 'claude-opus-4-6', stream: true,
    metadata: { user_id: 'slow' }, messages: [{ role: 'user', content: 'x' }] }), { 'x-api-key': API_KEY }, ac.signal);
  const reader = r.body.getReader();
  await reader.read();
  ac.abort();
  reader.cancel().catch(() => {});
};

await check('client disconnect cancels the upstream stream', async () => {
  upstreamClosedEarly = false;
  await hangUpMidStream(px.url);
  for (let i = 0; i < 40 && !upstreamClosedEarly; i++) await sleep(50);
  assert(upstreamClosedEarly, 'the upstream kept streaming');
});

await check('clients that hang up mid-stream leave nothing behind: 20 of them, then a clean exit (LeakSanitizer in the SANITIZE=1 build)', async () => {
  const pxh = await startProxy(urls);
  for (let i = 0; i < 20; i++) await hangUpMidStream(pxh.url);
  await sleep(300);
  const { code } = await pxh.stop();
  assert(code === 0 && !/LeakSanitizer|AddressSanitizer/.test(pxh.stderr()),
    `exit ${code}: ${pxh.stderr().split('\n').filter((l) => /Sanitizer|leak/.test(l)).slice(0, 3).join(' | ')}`);
});

await check('out of file descriptors the proxy pauses accepting, says so once, and serves again once they free up', async () => {
  // a hard limit of 48 descriptors, under which 80 idle connections exhaust them
  const port = 30000 + (process.pid % 20000);
  const logDir = mkdtempSync(path.join(tmp, 'logs-'));
  const child = spawn('sh', ['-c', `ulimit -n 48 && exec "${proxyBin}" --listen 127.0.0.1:${port} --log-dir "${logDir}"`],
    { env: { ...process.env, HEADROOM_HOME: path.join(tmp, 'no-home') }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((r) => child.on('exit', (code) => r(code)));
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(`http://127.0.0.1:${port}/health`)).status) break; } catch { /* not yet */ }
    await sleep(50);
  }
  const socks = [];
  for (let i = 0; i < 80; i++) {
    const sock = net.connect(port, '127.0.0.1');
    sock.on('error', () => {});
    socks.push(sock);
  }
  await sleep(1500);
  const said = stderr;
  for (const sock of socks) sock.destroy();
  let health = 0;
  for (let i = 0; i < 60 && health !== 200; i++) {
    await sleep(100);
    try { health = (await fetch(`http://127.0.0.1:${port}/health`)).status; } catch { /* still full */ }
  }
  child.kill('SIGTERM');
  const code = await exited;
  // libevent alone wrote "Too many open files" in a loop, megabytes a minute
  assert(/out of file descriptors/.test(said) && said.length < 2000, `stderr while full: ${said.length} bytes: ${said.slice(0, 200)}`);
  assert(health === 200 && /accepting connections again/.test(stderr) && code === 0,
    `health ${health}, exit ${code}, stderr ${stderr.slice(-300)}`);
});

await check('/stats and /metrics count requests and tokens saved', async () => {
  const s = await (await fetch(`${px.url}/stats`)).json();
  assert(s.requests >= 10 && s.by_provider.anthropic.requests > 0, JSON.stringify(s));
  const t = await (await fetch(`${pxt.url}/stats`)).json(); /* the proxy that compressed the long scenarios */
  assert(t.requests === 3 && t.tokens_saved > 0 && t.by_provider.anthropic.tokens_saved > 0, JSON.stringify(t));
  assert(t.saved_lossless > 0 && t.saved_lossy > 0 && t.saved_lossless + t.saved_lossy === t.tokens_saved, JSON.stringify(t));
  const m = await (await fetch(`${pxt.url}/metrics`)).text();
  assert(/hr_tokens_saved_total\{provider="anthropic"\} [1-9]/.test(m), 'metrics lack tokens saved');
  assert(new RegExp(`hr_tokens_saved_lossless_total ${t.saved_lossless}\n`).test(m) &&
    new RegExp(`hr_tokens_saved_lossy_total ${t.saved_lossy}\n`).test(m), 'metrics lack the lossless / lossy split');
});

await check('the log: one JSON line per request with the fields, never a credential', async () => {
  const lines = px.log();
  assert(lines.length >= 10, `${lines.length} lines`);
  for (const k of ['ts', 'id', 'method', 'path', 'provider', 'upstream', 'model', 'stream', 'status', 'tokens_before',
    'tokens_after', 'tokens_saved', 'saved_lossless', 'saved_lossy', 'compress_ms', 'ttfb_ms', 'total_ms', 'error'])
    assert(k in lines[0], `no ${k}`);
  assert(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(lines[0].ts), `ts ${lines[0].ts}`);
  const raw = readFileSync(path.join(px.logDir, 'requests.jsonl'), 'utf8') + px.stderr();
  for (const secret of [API_KEY, OAUTH, 'sk-proj-abc123', CHATGPT_JWT]) assert(!raw.includes(secret), 'a credential was logged');
});

// ---- a second proxy: limits, unreachable upstream, SIGHUP, shutdown ------------------
const cfg = path.join(tmp, 'route.yaml');
writeFileSync(cfg, `anthropic_api_url: ${up}\nopenai_api_url: http://127.0.0.1:1\nmax_body_bytes: 100000\n`);
const px2 = await startProxy(['--config', cfg]);

// Raw bytes to the proxy: what came back and whether the proxy closed the connection.
const rawRequest = (port, text, wait = 500) => new Promise((resolve) => {
  const sock = net.connect(port, '127.0.0.1');
  let got = '';
  sock.on('data', (d) => { got += d; });
  sock.on('close', () => resolve({ got, closed: true }));
  sock.on('error', () => resolve({ got, closed: true })); // a reset also closes
  sock.on('connect', () => { if (text) sock.write(text); });
  setTimeout(() => { resolve({ got, closed: false }); sock.destroy(); }, wait);
});

await check('413 in each provider\'s error format for a body over max_body_bytes; nothing goes upstream', async () => {
  const before = seen.length;
  const long = 'x'.repeat(200000);
  const anthropic = new Anthropic({ apiKey: API_KEY, baseURL: px2.url, maxRetries: 0 });
  const e1 = await anthropic.messages.create({ model: 'claude-opus-4-6', max_tokens: 8,
    messages: [{ role: 'user', content: long }] }).then(() => null, (e) => e);
  assert(e1 instanceof Anthropic.APIError && e1.status === 413, `Anthropic SDK: ${e1}`);
  assert(e1.error?.type === 'error' && e1.error?.error?.type === 'request_too_large' &&
    /200\d{3} bytes is over max_body_bytes \(100000\)/.test(e1.error.error.message), JSON.stringify(e1.error));
  const openai = new OpenAI({ apiKey: 'sk-x', baseURL: `${px2.url}/v1`, maxRetries: 0 });
  const e2 = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: long }] })
    .then(() => null, (e) => e);
  assert(e2 instanceof OpenAI.APIError && e2.status === 413 && e2.code === 'request_too_large' &&
    e2.type === 'request_too_large', `OpenAI SDK: ${e2}`);
  assert(seen.length === before, 'a refused request reached the upstream');
  await sleep(50);
  const recs = px2.log().filter((l) => l.status === 413);
  assert(recs.length === 2 && recs[0].provider === 'anthropic' && recs[1].provider === 'openai' &&
    /over max_body_bytes/.test(recs[0].error), `log: ${JSON.stringify(recs)}`);
});

await check('after a 413 the connection serves the next request; Expect: 100-continue gets the 413 at once', async () => {
  const before = seen.length;
  const small = '{"model":"claude-sonnet-4-5","max_tokens":8,"messages":[]}';
  const { got } = await rawRequest(px2.port,
    `POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\nContent-Length: 150000\r\n\r\n${'y'.repeat(150000)}` +
    `POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\nContent-Length: ${small.length}\r\n\r\n${small}`, 1500);
  const statuses = [...got.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
  assert(statuses.join() === "413,200", `answers ${statuses.join()}`);
  assert(seen.length === before + 1 && seen[seen.length - 1].body.toString() === small, 'upstream did not get the second');
  const expect = await rawRequest(px2.port,
    'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 150000\r\n\r\n', 1500);
  assert(expect.closed && /^HTTP\/1\.1 413/.test(expect.got) && !/100 Continue/.test(expect.got) &&
    /"code":"request_too_large"/.test(expect.got), `answer ${JSON.stringify(expect.got.slice(0, 80))}`);
});

await check('a body whose length is ambiguous (two Content-Length values, "+2", one beside chunked coding) gets a 400 and the connection closes; nothing goes upstream', async () => {
  const before = seen.length;
  const body = '{"model":"claude-sonnet-4-5","max_tokens":8,"messages":[]}';
  for (const [heads, why] of [
    [`Content-Length: ${body.length}\r\nContent-Length: 5\r\n`, 'two different Content-Length values'],
    ['Content-Length: +2\r\n', 'a Content-Length that is not a number'],
    [`Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n`, 'Content-Length beside Transfer-Encoding']]) {
    const { got, closed } = await rawRequest(px2.port,
      `POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\n${heads}\r\n${body}` +
      `POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\nContent-Length: ${body.length}\r\n\r\n${body}`, 1500);
    const statuses = [...got.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
    assert(statuses.join() === '400' && closed, `${why}: answers ${statuses.join()}, closed ${closed}`);
    assert(got.includes('"type":"invalid_request_error"') && got.includes(why), `${why}: ${JSON.stringify(got.slice(-200))}`);
  }
  assert(seen.length === before, 'a refused request, or the one smuggled behind it, reached the upstream');
});

await check('431 for more than 200 request headers or a head over 64 KiB, and the connection closes; 150 headers pass; nothing refused goes upstream', async () => {
  const before = seen.length;
  const body = '{"model":"claude-sonnet-4-5","max_tokens":8,"messages":[]}';
  const lines = (n) => Array.from({ length: n }, (_, i) => `x-h${i}: v\r\n`).join('');
  for (const [extra, why] of [[lines(300), 'more than 200 request headers'],
    [`x-big: ${'a'.repeat(100000)}\r\n`, 'request headers over 64 KiB']]) {
    const { got, closed } = await rawRequest(px2.port,
      `POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\n${extra}Content-Length: ${body.length}\r\n\r\n${body}`, 1500);
    assert(/^HTTP\/1\.1 431/.test(got) && closed && got.includes(why) && got.includes('"type":"invalid_request_error"'),
      `${why}: closed ${closed}, ${JSON.stringify(got.slice(0, 60))}`);
  }
  assert(seen.length === before, 'a refused request reached the upstream');
  const { got } = await rawRequest(px2.port,
    `POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\n${lines(150)}Content-Length: ${body.length}\r\n\r\n${body}`, 1500);
  assert(/^HTTP\/1\.1 200/.test(got) && seen.length === before + 1, `150 headers: ${JSON.stringify(got.slice(0, 40))}`);
});

await check('a chunked request is answered and its connection closes: a head behind it (two Content-Length values) is never read', async () => {
  const before = seen.length;
  const body = '{"model":"claude-sonnet-4-5","max_tokens":8,"messages":[]}';
  const { got, closed } = await rawRequest(px2.port,
    `POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\nTransfer-Encoding: chunked\r\n\r\n` +
    `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n` +
    `POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\nContent-Length: ${body.length}\r\nContent-Length: 5\r\n\r\n${body}`,
    1500);
  const statuses = [...got.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
  assert(statuses.join() === '200' && closed, `answers ${statuses.join()}, closed ${closed}`);
  assert(seen.length === before + 1 && seen[seen.length - 1].body.toString() === body,
    'the upstream did not get the chunked body, or got the request behind it');
});

await check('502 in OpenAI\'s error format when the upstream is unreachable', async () => {
  const r = await rawPost(`${px2.url}/v1/chat/completions`, '{"model":"gpt-4o","messages":[]}', { authorization: 'Bearer sk-x' });
  assert(r.status === 502, `status ${r.status}`);
  const j = await r.json();
  assert(j.error && j.error.code === 'upstream_unreachable', JSON.stringify(j));
});

await check('SIGHUP reads route.yaml again; a bad file keeps the old settings', async () => {
  writeFileSync(cfg, `anthropic_api_url: ${up}\nopenai_api_url: ${up}\nmax_body_bytes: 100000\n`);
  px2.child.kill('SIGHUP');
  await sleep(200);
  const r = await rawPost(`${px2.url}/v1/chat/completions`, '{"model":"gpt-4o","messages":[]}', { authorization: 'Bearer sk-x' });
  assert(r.status === 200, `after reload: status ${r.status}`);
  writeFileSync(cfg, 'openai_api_url: [unclosed\n');
  px2.child.kill('SIGHUP');
  await sleep(200);
  assert(/keeping the old settings/.test(px2.stderr()), 'no message about the bad file');
  const r2 = await rawPost(`${px2.url}/v1/chat/completions`, '{"model":"gpt-4o","messages":[]}', { authorization: 'Bearer sk-x' });
  assert(r2.status === 200, `after a bad reload: status ${r2.status}`);
});

await check('SIGTERM: a stream in flight finishes intact, then the proxy exits 0', async () => {
  const client = new Anthropic({ apiKey: API_KEY, baseURL: px2.url });
  const stream = await client.messages.create({ model: 'claude-opus-4-6', max_tokens: 64, stream: true,
    metadata: { user_id: 'slow' }, messages: [{ role: 'user', content: 'x' }] });
  let text = '', signalled = false;
  for await (const ev of stream) {
    if (!signalled) { px2.child.kill('SIGTERM'); signalled = true; }
    if (ev.type === 'content_block_delta') text += ev.delta.text;
  }
  assert(text === TEXT, `text "${text}"`);
  const { code } = await px2.exited;
  assert(code === 0, `exit ${code}`);
});

// ---- a third proxy: slow clients, bad requests, busy workers ----------------------------
// token mode: a long conversation gets compressed whenever a worker takes it
const px3 = await startProxy([...urls, '--client-timeout', '2', '--max-concurrent', '1', '--mode', 'token']);
const cpuMs = (pid) => { // user + system time of a process, in ms
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};
const rss = (pid) => Number((readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/) || [])[1]) * 1024;

await check('a client that stops reading holds the upstream back; memory stays bounded', async () => {
  const sock = net.connect(px3.port, '127.0.0.1');
  await new Promise((r) => sock.on('connect', r));
  sock.pause(); // read nothing
  sock.write('POST /flood HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nx-api-key: k\r\n\r\n{}');
  await sleep(500);
  const cpu0 = cpuMs(px3.child.pid);
  await sleep(1000);
  const cpu = cpuMs(px3.child.pid) - cpu0;
  if (process.env.HR_TEST_VERBOSE) console.log(`  flood: proxy used ${cpu} ms of CPU in the last second`);
  const written = floodWritten, mem = rss(px3.child.pid);
  if (process.env.HR_TEST_VERBOSE) console.log(`  flood: upstream wrote ${written} bytes, proxy RSS ${mem}`);
  if (process.env.HR_TEST_VERBOSE) setTimeout(() => console.log(px3.stderr()), 1000);
  sock.destroy();
  assert(written < 16 << 20, `the upstream wrote ${written} bytes to a client that reads nothing`);
  assert(mem < 100 << 20, `proxy RSS ${mem}`);
});

await check('an upstream that dies mid-stream: the client sees a broken transfer, not a clean end', async () => {
  const got = await new Promise((resolve) => {
    const req = http.request(`${px3.url}/cut`, { method: 'POST', headers: { 'x-api-key': 'k' } }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ text, ended: true }));
      res.on('error', () => resolve({ text, ended: false }));
      res.on('aborted', () => resolve({ text, ended: false }));
    });
    req.on('error', () => resolve({ text: '', ended: false }));
    req.end('{}');
  });
  assert(got.text.includes('message_start'), 'the first event did not arrive');
  assert(!got.ended, 'the stream ended cleanly although the upstream broke off');
  await sleep(200);
  const rec = px3.log().filter((l) => l.path === '/cut').pop();
  assert(rec && /upstream/.test(rec.error || ''), `the log says ${JSON.stringify(rec)}; ${px3.stderr().slice(-3000)}`);
});

await check('400 for a malformed request line', async () => {
  const { got } = await rawRequest(px3.port, 'THIS IS NOT HTTP\r\n\r\n');
  assert(/^HTTP\/1\.[01] 400/.test(got), `answer ${JSON.stringify(got.slice(0, 40))}` +
    (process.env.HR_TEST_VERBOSE ? ` exit ${px3.child.exitCode} ${px3.child.signalCode} ${px3.stderr()}` : ''));
});

await check('an idle client is timed out (client_timeout)', async () => {
  const { closed } = await rawRequest(px3.port, 'POST /v1/messages HTTP/1.1\r\nHost: x\r\n', 4000);
  assert(closed, 'the connection stayed open');
});

await check('max_concurrent: a request that finds every worker busy goes uncompressed at once, and the log says so', async () => {
  const body = readFileSync(`${scenarios}/long-chat.json`);
  const before = seen.length;
  await Promise.all([1, 2, 3, 4].map(() => rawPost(`${px3.url}/v1/chat/completions`, body, { authorization: 'Bearer k' })
    .then((r) => r.arrayBuffer())));
  const bodies = seen.slice(before).map((x) => x.body);
  const whole = bodies.filter((b) => Buffer.compare(b, body) === 0).length;
  assert(whole >= 1 && whole < 4, `${whole} of 4 went uncompressed`);
  await sleep(50);
  assert(px3.log().some((l) => /busy/.test(l.error || '')), 'no log record says the workers were busy');
});

px3.child.kill('SIGTERM');
await px3.exited;

await check('health says unhealthy, and why, when the log folder cannot be written; requests still go through', async () => {
  const notDir = path.join(tmp, 'a-file');
  writeFileSync(notDir, 'x');
  const pxu = await startProxy([...urls, '--log-dir', path.join(notDir, 'logs')]);
  try {
    const h = await fetch(`${pxu.url}/health`);
    const body = await h.json();
    assert(h.status === 503, `status ${h.status}`);
    assert(body.status === 'unhealthy' && /logs/.test(body.reason || ''), JSON.stringify(body));
    const r = await rawPost(`${pxu.url}/v1/messages`, '{"model":"m","messages":[]}', { 'x-api-key': 'k' });
    assert(r.status === 200, `a request through an unhealthy proxy got ${r.status}`);
  } finally {
    pxu.child.kill('SIGTERM');
    await pxu.exited;
  }
});

// Bodies shorter than min_tokens bytes are counted on the event loop; what
// was counted must not pile up there from one request to the next.
const px5 = await startProxy([...urls, '--min-tokens', '2000000']);
await check('bodies too short to compress: counted, sent byte-identical, nothing kept between requests', async () => {
  const body = Buffer.from(JSON.stringify({ model: 'claude-opus-4-6', max_tokens: 16,
    messages: [{ role: 'user', content: 'lorem ipsum dolor sit amet '.repeat(34000) }] }));
  const send = async () => {
    const r = await rawPost(`${px5.url}/v1/messages`, body, { 'x-api-key': 'k' });
    await r.arrayBuffer();
    assert(Buffer.compare(lastSeen().body, body) === 0, 'the body changed');
  };
  for (let i = 0; i < 5; i++) await send();
  const before = rss(px5.child.pid);
  for (let i = 0; i < 40; i++) await send();
  const grown = rss(px5.child.pid) - before;
  if (process.env.HR_TEST_VERBOSE) console.log(`  inline: 40 bodies of ${body.length} bytes, RSS grew ${grown}`);
  // AddressSanitizer keeps freed memory in quarantine: RSS says nothing there.
  if (!sanitized) assert(grown < 16 << 20, `RSS grew ${grown} bytes over 40 requests of ${body.length} bytes`);
  await sleep(50);
  const rec = px5.log().pop();
  assert(rec.tokens_before > 100000 && rec.tokens_after === rec.tokens_before, `tokens ${rec.tokens_before} -> ${rec.tokens_after}`);
});
px5.child.kill('SIGTERM');
await px5.exited;

// token mode, and the conversation ten times over: compressing it takes tens
// of milliseconds, far past a timer of 0 ms, however loaded the machine
const px4 = await startProxy([...urls, '--compress-timeout-ms', '0', '--mode', 'token']);
await check('compression that takes longer than compress_timeout_ms: the original goes, the log says why', async () => {
  const long = JSON.parse(readFileSync(`${scenarios}/long-anthropic.json`, 'utf8'));
  const history = long.messages.slice(0, -1);
  long.messages = [].concat(...Array(10).fill(history), long.messages.slice(-1));
  const body = Buffer.from(JSON.stringify(long));
  const r = await rawPost(`${px4.url}/v1/messages`, body, { 'x-api-key': 'k' });
  await r.arrayBuffer();
  assert(Buffer.compare(lastSeen().body, body) === 0, 'the body changed');
  await sleep(50);
  assert(/timed out/.test(px4.log().pop().error || ''), 'no timeout in the log');
});
px4.child.kill('SIGTERM');
await px4.exited;

// a tool result of 30 MB that is one word (a blob, a run of one letter): the
// compression it starts times out; the worker must stop, the memory it and
// the body took must go back, and the loop must keep answering meanwhile
const px6 = await startProxy([...urls, '--compress-timeout-ms', '300', '--max-body-bytes', String(64 << 20)]);
await check('a 30 MB one-word tool result: sent as it came, /health answers meanwhile, the worker stops, memory goes back', async () => {
  const word = Buffer.alloc(30 << 20);
  let r = 7;
  for (let i = 0; i < word.length; i++) { r = (r * 1103515245 + 12345) >>> 0; word[i] = 97 + ((r >>> 16) % 26); }
  const body = Buffer.from(JSON.stringify({ model: 'gpt-4o', messages: [
    { role: 'user', content: 'what is in the blob?' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'read_blob', arguments: '{}' } }] },
    { role: 'tool', tool_call_id: 'c1', content: word.toString('latin1') }] }));
  const pid = px6.child.pid, rss0 = rss(pid);
  let done = false, worst = 0;
  const post = rawPost(`${px6.url}/v1/chat/completions`, body, { authorization: 'Bearer k' })
    .then((res) => res.arrayBuffer()).finally(() => { done = true; });
  while (!done) {
    const h0 = Date.now();
    await fetch(`${px6.url}/health`).then((res) => res.arrayBuffer());
    worst = Math.max(worst, Date.now() - h0);
    await sleep(20);
  }
  await post;
  assert(Buffer.compare(lastSeen().body, body) === 0, 'the body changed');
  const cpu0 = cpuMs(pid);
  await sleep(1000);
  const cpu = cpuMs(pid) - cpu0;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const peak = Number(status.match(/VmHWM:\s+(\d+)/)[1]) * 1024, after = rss(pid);
  if (process.env.HR_TEST_VERBOSE) console.log(`  blob: health worst ${worst} ms, cpu ${cpu} ms after, peak ${peak}, rss ${rss0} -> ${after}`);
  assert(cpu < 300, `the proxy used ${cpu} ms of CPU in the second after answering: the abandoned compression runs on`);
  assert(worst < 1500, `/health took ${worst} ms while the blob was handled`);
  if (!sanitized) { // AddressSanitizer's shadow memory and quarantine make these sizes its own
    assert(peak < 8 * body.length + (100 << 20), `peak memory ${peak} bytes for a body of ${body.length}`);
    assert(after < rss0 + (48 << 20), `memory after the blob ${after} bytes, before ${rss0}`);
  }
});
px6.child.kill('SIGTERM');
await px6.exited;

px.child.kill('SIGTERM');
await px.exited;
upstream.close();
process.exit(failures ? 1 : 0);
