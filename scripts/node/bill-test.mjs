// The bill, measured: hr-proxy against a fake upstream that keeps a prompt
// cache by the providers' published rules and reports usage as they do,
// driven by the official SDKs (npm openai, @anthropic-ai/sdk) and raw HTTP.
// Checks that the proxy relays every answer byte for byte, logs the usage the
// fake reported and the billed units the fake computed, for Anthropic
// Messages, Chat Completions and Responses (OpenAI and ChatGPT Codex),
// streamed and not; that observe mode sends each body as it came; and that
// an answer without usage logs null. Loopback only.
//   node scripts/node/bill-test.mjs BUILD_DIR
//
// Tokens, for the fake and this test alike: ceil(UTF-8 bytes / 4) of the
// JSON of each block or message. Not a provider's tokenizer, but the cache
// rules only need a count both sides agree on.
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { proxyStarter, sleep } from './proxy-harness.mjs';

const build = process.argv[2] || 'build/release';
const proxyBin = path.resolve(build, 'hr-proxy');
const verifyBin = path.resolve(build, 'hr-verify');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'hr-bill-test-'));
let failures = 0;
async function check(name, fn) {
  try { await fn(); console.log(`ok bill: ${name}`); } catch (e) {
    failures++; console.log(`not ok bill: ${name}: ${String(e && e.stack ? e.message : e).split('\n')[0]}`);
  }
}
function assert(cond, msg) { if (!cond) throw new Error(msg); }
const near = (a, b) => typeof a === 'number' && Math.abs(a - b) < 1e-4 * Math.max(1, Math.abs(b));

// ---- the fake upstream's prompt caches ------------------------------------------------
const tok = (s) => Math.ceil(Buffer.byteLength(s) / 4);
const sha = (s) => createHash('sha256').update(s).digest('hex');
const PRICES = { cache_write: 1.25, cache_read: 0.1, cached: 0.1 }; // the providers' published multipliers

// Anthropic: a cache entry is the prefix up to a cache_control breakpoint
// (system blocks, then message blocks, in order), written when at least 1024
// tokens long. A request reads the longest earlier-written prefix that ends
// at a breakpoint or up to 20 blocks before one; the new prefix up to its last
// breakpoint is written; the rest is input_tokens. More than 4 breakpoints: 400.
const anthropicCache = new Set();
function anthropicUsage(req) {
  const blocks = [];
  const sys = typeof req.system === 'string' ? [{ type: 'text', text: req.system }] : req.system || [];
  for (const b of sys) blocks.push({ role: 'system', ...b });
  for (const m of req.messages || [])
    for (const b of typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content) blocks.push({ role: m.role, ...b });
  let h = '', cum = 0;
  const keys = [], cums = [], marks = [];
  for (const b of blocks) {
    const { cache_control, ...content } = b; // moving a marker changes no content
    const text = JSON.stringify(content);
    h = sha(h + '\0' + text);
    cum += tok(text);
    keys.push(h); cums.push(cum);
    if (cache_control) marks.push(keys.length - 1);
  }
  if (marks.length > 4) return null;
  let readEnd = -1;
  for (const bp of marks)
    for (let i = bp; i >= Math.max(0, bp - 20); i--) if (anthropicCache.has(keys[i])) { readEnd = Math.max(readEnd, i); break; }
  const read = readEnd >= 0 ? cums[readEnd] : 0;
  const last = marks.length ? marks[marks.length - 1] : -1;
  const write = last > readEnd && cums[last] >= 1024 ? cums[last] - read : 0;
  for (const bp of marks) if (cums[bp] >= 1024) anthropicCache.add(keys[bp]);
  return { input_tokens: cum - read - write, cache_creation_input_tokens: write, cache_read_input_tokens: read };
}

// OpenAI: the longest prefix shared with an earlier request of the same API,
// in tokens, counts as cached when at least 1024 tokens, in 128-token steps.
const openaiSeen = { chat: [], responses: [] };
function openaiUsage(api, prompt) {
  const buf = Buffer.from(prompt);
  let best = 0;
  for (const e of openaiSeen[api]) {
    let i = 0;
    while (i < buf.length && i < e.length && buf[i] === e[i]) i++;
    best = Math.max(best, i);
  }
  openaiSeen[api].push(buf);
  const total = tok(prompt), shared = Math.floor(best / 4);
  return { total, cached: shared >= 1024 ? Math.min(Math.floor(shared / 128) * 128, total) : 0 };
}
const chatPrompt = (req) => (req.messages || []).map((m) => JSON.stringify(m)).join('\n');
const responsesPrompt = (req) => JSON.stringify(req.instructions || '') + '\n' +
  (typeof req.input === 'string' ? JSON.stringify(req.input) : (req.input || []).map((m) => JSON.stringify(m)).join('\n'));

// ---- the fake upstream -------------------------------------------------------------------
const TEXT = 'the answer is forty two';
const OUT = tok(TEXT);
const fake = []; // per answered request: {path, body, sent: Buffer, usage (normalised) | null, billed}
const record = (req, body, usage, billed) => { const r = { path: req.url, body, sent: null, usage, billed }; fake.push(r); return r; };

function sendJson(res, rec, obj, status = 200, gzip = false) {
  let b = Buffer.from(JSON.stringify(obj));
  const headers = { 'content-type': 'application/json' };
  if (gzip) { b = zlib.gzipSync(b); headers['content-encoding'] = 'gzip'; }
  headers['content-length'] = b.length;
  rec.sent = b;
  res.writeHead(status, headers);
  res.end(b);
}
// Events written in uneven pieces, so that lines and events straddle chunks.
function sendEvents(res, rec, events, crlf) {
  const text = events.join('').replace(/\n/g, crlf ? '\r\n' : '\n');
  const b = Buffer.from(text);
  rec.sent = b;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let at = 0, k = 0;
  const step = () => {
    if (res.destroyed) return;
    if (at >= b.length) return res.end();
    const n = [7, 1, 33, 2, 120, 5][k++ % 6];
    res.write(b.subarray(at, at + n));
    at += n;
    setImmediate(step);
  };
  step();
}
const ev = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

function anthropicAnswer(req, res, json, body) {
  const u = anthropicUsage(json);
  if (!u) { // more than 4 breakpoints: the provider's error, no usage
    const rec = record(req, body, null, 0);
    return sendJson(res, rec, { type: 'error', error: { type: 'invalid_request_error',
      message: 'A maximum of 4 blocks with cache_control may be provided. Found 5.' } }, 400);
  }
  const usage = { api: 'anthropic-messages', input_uncached: u.input_tokens, cache_write: u.cache_creation_input_tokens,
    cache_read: u.cache_read_input_tokens, output: OUT };
  const billed = u.input_tokens + PRICES.cache_write * u.cache_creation_input_tokens + PRICES.cache_read * u.cache_read_input_tokens;
  const noUsage = req.headers['x-fake-no-usage'];
  const rec = record(req, body, noUsage ? null : usage, billed);
  const msg = { id: 'msg_1', type: 'message', role: 'assistant', model: json.model, stop_reason: null, stop_sequence: null, content: [] };
  if (!json.stream) {
    const answer = { ...msg, stop_reason: 'end_turn', content: [{ type: 'text', text: TEXT }] };
    if (!noUsage) answer.usage = { ...u, output_tokens: OUT };
    return sendJson(res, rec, answer, 200, !!req.headers['x-fake-gzip']);
  }
  // message_start carries the input counts and a first output count; message_delta the final
  // output count, and (newer APIs, x-fake-repeat) the input counts again
  const repeat = req.headers['x-fake-repeat'];
  sendEvents(res, rec, [ev('message_start', { message: { ...msg, usage: { ...u, output_tokens: 1 } } }),
    ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    ...TEXT.split(' ').map((w, i) => ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: (i ? ' ' : '') + w } })),
    ev('content_block_stop', { index: 0 }),
    ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: repeat ? { ...u, output_tokens: OUT } : { output_tokens: OUT } }),
    ev('message_stop', {})], !!req.headers['x-fake-crlf']);
}

function chatAnswer(req, res, json, body) {
  const { total, cached } = openaiUsage('chat', chatPrompt(json));
  const withUsage = !json.stream || json.stream_options?.include_usage;
  const usage = { api: 'openai-chat', input_uncached: total - cached, cache_write: 0, cache_read: cached, output: OUT };
  const rec = record(req, body, withUsage ? usage : null, total - cached + PRICES.cached * cached);
  const u = { prompt_tokens: total, completion_tokens: OUT, total_tokens: total + OUT,
    prompt_tokens_details: { cached_tokens: cached, audio_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } };
  const base = { id: 'c1', created: 1, model: json.model };
  if (!json.stream)
    return sendJson(res, rec, { ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: TEXT },
      finish_reason: 'stop' }], usage: u });
  const extra = withUsage ? { usage: null } : {};
  const chunk = (o) => `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', ...o })}\n\n`;
  sendEvents(res, rec, [...TEXT.split(' ').map((w, i) => chunk({ choices: [{ index: 0, delta: { content: (i ? ' ' : '') + w },
    finish_reason: null }], ...extra })), chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], ...extra }),
  ...(withUsage ? [chunk({ choices: [], usage: u })] : []), 'data: [DONE]\n\n']);
}

function responsesAnswer(req, res, json, body) {
  const { total, cached } = openaiUsage('responses', responsesPrompt(json));
  const usage = { api: 'openai-responses', input_uncached: total - cached, cache_write: 0, cache_read: cached, output: OUT };
  const rec = record(req, body, usage, total - cached + PRICES.cached * cached);
  const u = { input_tokens: total, input_tokens_details: { cached_tokens: cached }, output_tokens: OUT,
    output_tokens_details: { reasoning_tokens: 0 }, total_tokens: total + OUT };
  const resp = { id: 'resp_1', object: 'response', created_at: 1, status: 'completed', model: json.model, output: [{ type: 'message',
    id: 'm1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: TEXT, annotations: [] }] }], usage: u };
  if (!json.stream) return sendJson(res, rec, resp);
  sendEvents(res, rec, [ev('response.created', { response: { ...resp, status: 'in_progress', output: [], usage: null } }),
    ...TEXT.split(' ').map((w, i) => ev('response.output_text.delta', { item_id: 'm1', output_index: 0, content_index: 0,
      delta: (i ? ' ' : '') + w })),
    ev('response.completed', { response: resp })]);
}

const upstream = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (d) => chunks.push(d));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    let json = {};
    try { json = JSON.parse(body.toString() || '{}'); } catch { json = {}; }
    if (req.url.startsWith('/v1/messages')) return anthropicAnswer(req, res, json, body);
    if (req.url.startsWith('/v1/chat/completions')) return chatAnswer(req, res, json, body);
    if (req.url.startsWith('/v1/responses') || req.url.startsWith('/backend-api/codex/responses'))
      return responsesAnswer(req, res, json, body);
    res.writeHead(404).end();
  });
});

// ---- the proxy --------------------------------------------------------------------------
const startProxy = proxyStarter(proxyBin, tmp);
// The log line of a request is written when its answer ends; wait for n lines.
async function logLines(px, n) {
  for (let i = 0; i < 100 && px.log().length < n; i++) await sleep(20);
  return px.log();
}

await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
const up = `http://127.0.0.1:${upstream.address().port}`;
const urls = ['--anthropic-api-url', up, '--openai-api-url', up, '--chatgpt-api-url', `${up}/backend-api/codex`];

// ---- a session shaped like an agent's: a long system prompt, tool results ---------------
// Each step adds a tool call and its result (a build log of ~1,500 tokens),
// so older results leave hr's protected window and get compressed.
const SYSTEM = 'You are a coding agent working in a Debian 12 checkout of a C project. ' +
  'Read files before editing them; run the tests after each change; report what you changed. '.repeat(60);
const logOutput = (step) => Array.from({ length: 120 }, (_, i) =>
  `[${String(step).padStart(2, '0')}:${String(i).padStart(3, '0')}] cc -O2 -Wall -c src/module_${i % 17}.c -o build/module_${i % 17}.o ` +
  (i % 37 === 5 ? `ERROR: undefined reference to 'frobnicate_${step}'` : 'ok')).join('\n');
const jwt = (claims) => ['{"alg":"RS256","typ":"JWT"}', JSON.stringify(claims), 'sig']
  .map((p, i) => (i < 2 ? Buffer.from(p).toString('base64url') : p)).join('.');
const CHATGPT_JWT = jwt({ sub: 'user-1', 'https://api.openai.com/auth': { chatgpt_account_id: 'acct-123' } });

// Anthropic with Hermes's breakpoints: the system prompt and the last 3 messages.
function anthropicRequest(steps, stream) {
  const messages = [{ role: 'user', content: [{ type: 'text', text: 'Fix the build, then run the tests.' }] }];
  for (let s = 0; s < steps; s++) {
    messages.push({ role: 'assistant', content: [{ type: 'tool_use', id: `tu_${s}`, name: 'terminal', input: { command: 'make' } }] });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: `tu_${s}`, content: logOutput(s) }] });
  }
  for (const m of messages.slice(-3)) m.content[m.content.length - 1].cache_control = { type: 'ephemeral' };
  return { model: 'claude-opus-4-6', max_tokens: 256, stream,
    system: [{ type: 'text', text: SYSTEM, cache_control: { type: 'ephemeral' } }], messages };
}
function chatRequest(steps, stream, includeUsage = true) {
  const messages = [{ role: 'system', content: SYSTEM }, { role: 'user', content: 'Fix the build, then run the tests.' }];
  for (let s = 0; s < steps; s++) {
    messages.push({ role: 'assistant', content: null, tool_calls: [{ id: `call_${s}`, type: 'function',
      function: { name: 'terminal', arguments: '{"command":"make"}' } }] });
    messages.push({ role: 'tool', tool_call_id: `call_${s}`, content: logOutput(s) });
  }
  const r = { model: 'gpt-4o', messages, stream };
  if (stream && includeUsage) r.stream_options = { include_usage: true };
  return r;
}
function responsesRequest(steps, stream, model) {
  const input = [{ role: 'user', content: 'Fix the build, then run the tests.' }];
  for (let s = 0; s < steps; s++) {
    input.push({ type: 'function_call', call_id: `call_${s}`, name: 'terminal', arguments: '{"command":"make"}' });
    input.push({ type: 'function_call_output', call_id: `call_${s}`, output: logOutput(s) });
  }
  return { model, instructions: SYSTEM, input, stream };
}

// One call through an official SDK, as the raw HTTP answer: its bytes must be
// what the fake sent, and the SDK must read the usage out of them.
const anthropicClient = (base) => new Anthropic({ apiKey: 'sk-ant-api03-test', baseURL: base, maxRetries: 0 });
const openaiClient = (base, key = 'sk-proj-test') => new OpenAI({ apiKey: key, baseURL: base, maxRetries: 0 });
async function viaSdk(kind, base, req) {
  if (kind === 'anthropic') return anthropicClient(base).messages.create(req).asResponse();
  if (kind === 'chat') return openaiClient(`${base}/v1`).chat.completions.create(req).asResponse();
  if (kind === 'responses') return openaiClient(`${base}/v1`).responses.create(req).asResponse();
  return openaiClient(base, CHATGPT_JWT).responses.create(req).asResponse(); // codex
}
const pathOf = { anthropic: '/v1/messages', chat: '/v1/chat/completions', responses: '/v1/responses', codex: '/responses' };
const build_ = { anthropic: (n, s) => anthropicRequest(n, s), chat: (n, s) => chatRequest(n, s),
  responses: (n, s) => responsesRequest(n, s, 'gpt-5'), codex: (n, s) => responsesRequest(n, s, 'gpt-5-codex') };

// Compares a log record with what the fake reported and billed.
function sameBill(rec, f, label) {
  assert(rec, `${label}: no log record`);
  if (!f.usage) {
    assert(rec.usage === null && !('billed_units' in rec), `${label}: usage ${JSON.stringify(rec.usage)}, expected null`);
    return;
  }
  for (const k of ['api', 'input_uncached', 'cache_write', 'cache_read', 'output'])
    assert(rec.usage && rec.usage[k] === f.usage[k], `${label}: usage.${k} ${rec.usage && rec.usage[k]}, the fake said ${f.usage[k]}`);
  assert(near(rec.billed_units, f.billed), `${label}: billed_units ${rec.billed_units}, the fake billed ${f.billed}`);
  const saved = rec.tokens_before - rec.tokens_after;
  const want = rec.observe ? rec.billed_units : rec.billed_units + saved;
  assert(near(rec.billed_units_before, want), `${label}: billed_units_before ${rec.billed_units_before}, expected ${want}`);
}

const px = await startProxy(urls);
const sessions = {};
for (const kind of ['anthropic', 'chat', 'responses', 'codex']) {
  await check(`${kind}: a 6-step session through the SDK, streamed and not: each answer relayed byte for byte, its usage and billed units logged as the fake's prompt cache gave them`, async () => {
    const first = fake.length, logged = px.log().length;
    for (let step = 1; step <= 6; step++) {
      const stream = step % 2 === 0;
      const res = await viaSdk(kind, px.url, build_[kind](step, stream));
      const got = Buffer.from(await res.arrayBuffer());
      const f = fake[fake.length - 1];
      assert(res.status === 200, `step ${step}: status ${res.status}`);
      assert(Buffer.compare(got, f.sent) === 0, `step ${step}${stream ? ' (stream)' : ''}: the client got ${got.length} bytes, the fake sent ${f.sent.length}, not the same`);
      if (!stream) {
        const u = JSON.parse(got).usage;
        assert(u && (u.output_tokens ?? u.completion_tokens) === OUT, `step ${step}: the SDK's answer lacks the usage`);
      }
    }
    const recs = (await logLines(px, logged + 6)).slice(logged).filter((r) => r.path === pathOf[kind]);
    const mine = fake.slice(first);
    assert(recs.length === 6 && mine.length === 6, `${recs.length} log records, ${mine.length} answers`);
    recs.forEach((r, i) => sameBill(r, mine[i], `step ${i + 1}`));
    assert(mine.some((f) => f.usage.cache_read > 0), 'the cache was never read: the test says nothing');
    if (kind === 'anthropic') assert(mine.some((f) => f.usage.cache_write > 0), 'the cache was never written');
    sessions[kind] = recs;
  });
}

await check('Anthropic stream whose message_delta repeats the input counts, with CRLF line ends: the same usage, counted once', async () => {
  const logged = px.log().length;
  const r = await fetch(`${px.url}/v1/messages`, { method: 'POST', body: JSON.stringify(anthropicRequest(2, true)),
    headers: { 'content-type': 'application/json', 'x-api-key': 'k', 'x-fake-repeat': '1', 'x-fake-crlf': '1' } });
  const got = Buffer.from(await r.arrayBuffer());
  const f = fake[fake.length - 1];
  assert(Buffer.compare(got, f.sent) === 0 && got.includes('\r\n'), 'the stream changed on the way');
  sameBill((await logLines(px, logged + 1))[logged], f, 'repeat');
});

await check('a gzip-encoded answer: relayed compressed as it came, its usage read', async () => {
  const logged = px.log().length;
  const body = JSON.stringify(anthropicRequest(1, false));
  const got = await new Promise((resolve, reject) => {
    const req = http.request(`${px.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json',
      'x-api-key': 'k', 'accept-encoding': 'gzip', 'x-fake-gzip': '1' } }, (res) => {
      const c = []; res.on('data', (d) => c.push(d)); res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(c) }));
    });
    req.on('error', reject);
    req.end(body);
  });
  const f = fake[fake.length - 1];
  assert(got.headers['content-encoding'] === 'gzip' && Buffer.compare(got.body, f.sent) === 0, 'the gzip answer changed');
  sameBill((await logLines(px, logged + 1))[logged], f, 'gzip');
});

await check('answers without usage log "usage": null and no billed units: a Chat stream without include_usage, an error, a body without usage', async () => {
  const logged = px.log().length;
  const post = (p, body, headers = {}) => fetch(`${px.url}${p}`, { method: 'POST', body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', authorization: 'Bearer k', ...headers } }).then((r) => r.arrayBuffer());
  await post('/v1/chat/completions', chatRequest(1, true, false));
  const tooMany = anthropicRequest(3, false);
  tooMany.messages[0].content[0].cache_control = { type: 'ephemeral' }; // 5 breakpoints: a 400
  tooMany.messages[1].content[0].cache_control = { type: 'ephemeral' };
  await post('/v1/messages', tooMany);
  await post('/v1/messages', anthropicRequest(1, false), { 'x-fake-no-usage': '1' });
  const recs = (await logLines(px, logged + 3)).slice(logged);
  assert(recs.length === 3, `${recs.length} records`);
  assert(recs[1].status === 400, `status ${recs[1].status}`);
  recs.forEach((r, i) => sameBill(r, { usage: null }, `answer ${i + 1}`));
});

await check('/stats and /metrics: billed units before and after, and the share saved, summed from the records with usage', async () => {
  const recs = px.log().filter((r) => r.usage);
  const before = recs.reduce((a, r) => a + r.billed_units_before, 0), after = recs.reduce((a, r) => a + r.billed_units, 0);
  const s = await (await fetch(`${px.url}/stats`)).json();
  assert(s.observe === false && s.requests_with_usage === recs.length, JSON.stringify(s));
  assert(Math.abs(s.billed_units_before - before) < 0.05 && Math.abs(s.billed_units_after - after) < 0.05 &&
    Math.abs(s.billed_units - after) < 0.05, `stats ${s.billed_units_before}/${s.billed_units_after}, log ${before}/${after}`);
  assert(Math.abs(s.billed_saved_share - (before - after) / before) < 1e-3 && s.billed_saved_share > 0, `share ${s.billed_saved_share}`);
  const m = await (await fetch(`${px.url}/metrics`)).text();
  for (const name of ['hr_billed_units_before_total{provider="anthropic"}', 'hr_billed_units_after_total{provider="chatgpt"}',
    'hr_billed_saved_ratio', 'hr_requests_with_usage_total', 'hr_observe_mode 0'])
    assert(m.includes(name), `metrics lack ${name}`);
});

if (existsSync(verifyBin))
  await check('hr-verify\'s logs check shows the billed units and the share saved', async () => {
    const out = execFileSync(verifyBin, ['--check', 'logs', '--log-dir', px.logDir],
      { env: { ...process.env, HEADROOM_HOME: path.join(tmp, 'no-home') } }).toString();
    assert(/billed [\d,]+ input-token units for \d+ request\(s\), [\d,]+ uncompressed \(\d+\.\d% saved, estimated\)/.test(out), out);
  });
await px.stop();

// ---- observe mode ------------------------------------------------------------------------
for (const [how, args, env, cfgText] of [
  ['--observe', ['--observe'], {}, null],
  ['HEADROOM_OBSERVE=1', [], { HEADROOM_OBSERVE: '1' }, null],
  ['route.yaml observe: true, with prices:', [], {}, 'observe: true\nprices:\n  anthropic: {cache_write: 2, cache_read: 0.5}\n' +
    '  openai: {cached: 0.25}\n  models:\n    claude-opus-4-6: {input: 5, output: 25}\n    gpt-4.1: {input: 2, output: 8}\n'],
]) {
  await check(`observe mode (${how}): every body goes upstream byte for byte, the log says what compression would have saved`, async () => {
    const extra = [...urls, ...args];
    if (cfgText) { const cfg = path.join(tmp, 'route.yaml'); writeFileSync(cfg, cfgText); extra.push('--config', cfg); }
    const po = await startProxy(extra, env);
    try {
      const prices = cfgText ? { cache_write: 2, cache_read: 0.5, cached: 0.25 } : PRICES;
      for (const [kind, n] of [['anthropic', 8], ['chat', 8], ['responses', 8]]) {
        const req = build_[kind](n, kind === 'chat');
        const body = Buffer.from(JSON.stringify(req));
        const headers = { 'content-type': 'application/json', authorization: 'Bearer k', 'x-api-key': 'k' };
        const got = Buffer.from(await (await fetch(`${po.url}${pathOf[kind]}`, { method: 'POST', body, headers })).arrayBuffer());
        const f = fake[fake.length - 1];
        assert(Buffer.compare(f.body, body) === 0, `${kind}: the upstream got a different body`);
        assert(Buffer.compare(got, f.sent) === 0, `${kind}: the answer changed`);
      }
      const recs = await logLines(po, 3);
      const mine = fake.slice(-3);
      recs.forEach((r, i) => {
        const f = mine[i], u = f.usage;
        const billed = u.api === 'anthropic-messages' ? u.input_uncached + prices.cache_write * u.cache_write + prices.cache_read * u.cache_read
          : u.input_uncached + prices.cached * u.cache_read;
        sameBill(r, { ...f, billed }, r.path);
        assert(r.observe === true && r.tokens_after < r.tokens_before, `${r.path}: observe ${r.observe}, tokens ${r.tokens_before} -> ${r.tokens_after}: ${JSON.stringify(r)}`);
        const after = Math.max(0, r.billed_units - (r.tokens_before - r.tokens_after));
        assert(near(r.billed_units_after, after), `${r.path}: billed_units_after ${r.billed_units_after}, expected ${after}`);
      });
      if (cfgText) {
        const a = recs[0];
        assert(near(a.cost_usd, (a.billed_units * 5 + a.usage.output * 25) / 1e6), `cost_usd ${a.cost_usd}`);
        assert(!('cost_usd' in recs[1]), 'a model without prices got a cost');
      }
      const s = await (await fetch(`${po.url}/stats`)).json();
      assert(s.observe === true && s.billed_saved_share > 0 && s.tokens_saved > 0, JSON.stringify(s));
    } finally { await po.stop(); }
  });
}

await check('a bad price in route.yaml stops the start with the file and the key', async () => {
  const cfg = path.join(tmp, 'bad.yaml');
  writeFileSync(cfg, 'prices:\n  models:\n    claude-opus-4-6: {input: cheap}\n');
  const out = await new Promise((r) => { const c = spawn(proxyBin, ['--config', cfg, '--listen', '127.0.0.1:1'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let e = ''; c.stderr.on('data', (d) => { e += d; }); c.on('exit', (code) => r({ code, e })); });
  assert(out.code === 78 && out.e.includes(cfg) && out.e.includes('prices.models.claude-opus-4-6.input'), `exit ${out.code}: ${out.e}`);
  writeFileSync(cfg, 'prices:\n  anthropic: {cache_read: -1}\n');
  const out2 = await new Promise((r) => { const c = spawn(proxyBin, ['--config', cfg, '--listen', '127.0.0.1:1'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let e = ''; c.stderr.on('data', (d) => { e += d; }); c.on('exit', (code) => r({ code, e })); });
  assert(out2.code === 78 && out2.e.includes('prices.anthropic.cache_read'), `exit ${out2.code}: ${out2.e}`);
});

upstream.close();
process.exit(failures ? 1 : 0);
