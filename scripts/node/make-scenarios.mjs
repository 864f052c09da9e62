// Builds the hr-compress test scenarios from real data on a Debian machine:
// dpkg's log, dpkg-query's package list as a JSON API response, grep -rn over
// /usr/include, a git diff of this repository, the GPL's prose, ls -la
// output. Facts are planted in each; the conversation's last question asks
// about them. The outputs are committed; this script documents where they
// came from and can rebuild them:  node scripts/node/make-scenarios.mjs OUTDIR
import { execSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const out = process.argv[2] || 'testdata/hr-compress/scenarios';
const sh = (cmd) => execSync(cmd, { encoding: 'utf8', maxBuffer: 64 << 20 });
const lines = (text) => text.split('\n');
const plant = (arr, at, line) => { arr.splice(at, 0, line); return arr; };

// ---- tool outputs -------------------------------------------------------------
const dpkgLog = plant(lines(sh('sed -n 2001,2320p /var/log/dpkg.log')), 187,
  '2025-06-24 14:37:02 status half-configured hr-fixture-zlib:amd64 1.3.1-hr7\n' +
  'dpkg: error processing package hr-fixture-zlib (--configure): installed post-installation script subprocess returned error exit status 17 request_id=3f0c9a52-8d1e-4b7a-9c3e-5a2f1d7e6b90').join('\n');

const pkgs = sh("dpkg-query -W -f='${Package}\\t${Version}\\t${Architecture}\\t${Installed-Size}\\t${Status}\\n' | head -140")
  .trim().split('\n').map((l) => {
    const [name, version, arch, size, status] = l.split('\t');
    return { name, version, architecture: arch, installed_size_kb: Number(size), status };
  });
pkgs.splice(71, 0, { name: 'hr-fixture-zlib', version: '1.3.1-hr7', architecture: 'amd64', installed_size_kb: 412,
  status: 'install reinstreq half-configured', error: 'post-installation script returned exit status 17' });
const pkgJson = JSON.stringify({ total: pkgs.length, packages: pkgs }, null, 2);

const grep = plant(lines(sh("cd /usr/include && grep -rn 'malloc' --include='*.h' . | head -160")), 97,
  './hr/arena.h:4242:void *hr_arena_alloc(size_t bytes) __attribute__((malloc));').join('\n');

const diffRange = 'ec16952 e3a961c -- lib/request_count.c lib/json_scan.c lib/json_internal.h lib/test/test_json.c';
const diff = sh(`git diff ${diffRange}`);
const diffPlanted = diff.replace(/^(@@[^\n]*\n)/m, '$1+#define HR_MAX_RETRIES 7\n');

const gpl = readFileSync('/usr/share/common-licenses/GPL-3', 'utf8').split('\n').slice(60, 260);
plant(gpl, 120, 'The maintenance window for cluster eu-west-2b is 03:15 UTC on Thursdays.');
const prose = gpl.join('\n');

const ls = plant(lines(sh('ls -la /usr/lib/x86_64-linux-gnu | head -180')), 90,
  '-rw-------  1 root root 1073741824 Nov 20 03:12 core.28817').join('\n');

const small = [
  ['git status --short', ' M lib/compress.c\n?? notes.txt\n'],
  ['wc -l notes.txt', '12 notes.txt\n'],
];

const heavy = [
  ['bash', { command: 'tail -n 320 /var/log/dpkg.log' }, dpkgLog],
  ['http_get', { url: 'https://pkg.example.internal/api/v2/packages?limit=141' }, pkgJson],
  ['bash', { command: "grep -rn malloc --include='*.h' /usr/include" }, grep],
  ['bash', { command: `git diff ${diffRange}` }, diffPlanted],
  ['read_file', { path: 'docs/LICENSE-notes.txt' }, prose],
  ['bash', { command: 'ls -la /usr/lib/x86_64-linux-gnu' }, ls],
];

const facts = [
  'hr-fixture-zlib', 'exit status 17', '3f0c9a52-8d1e-4b7a-9c3e-5a2f1d7e6b90', '1.3.1-hr7',
  'hr_arena_alloc', 'HR_MAX_RETRIES 7', 'eu-west-2b is 03:15 UTC on Thursdays', 'core.28817', '1073741824',
];
const task = 'The package install on this box is broken. Look at the dpkg log, the package API, the headers and ' +
  'the latest parser change, and find out what is wrong.';
const question = 'Before you change anything: which package failed to configure, with which exit status and ' +
  'request id, and at which version? Where is hr_arena_alloc declared, what value does the diff give ' +
  'HR_MAX_RETRIES, when is the maintenance window for eu-west-2b, and how large is the core dump file?';
const system = 'You are a careful coding agent working in a Debian 12 container. Use the tools to inspect the ' +
  'machine; never guess file contents. R\u00e9sum\u00e9 every step in one line.';

// ---- the three API shapes ----------------------------------------------------
function anthropic(calls, { extraTools = [] } = {}) {
  const messages = [{ role: 'user', content: task }];
  calls.forEach(([name, input, output], i) => {
    const id = `toolu_01${String(i).padStart(2, '0')}Xq7`;
    messages.push({ role: 'assistant', content: [{ type: 'text', text: `Step ${i + 1}: running ${name}.` },
      { type: 'tool_use', id, name, input }] });
    const block = i === 1 ? { type: 'tool_result', tool_use_id: id, content: [{ type: 'text', text: output }] }
      : { type: 'tool_result', tool_use_id: id, content: output };
    if (i === 2) block.cache_control = { type: 'ephemeral' };
    messages.push({ role: 'user', content: [block] });
  });
  messages.push({ role: 'assistant', content: 'I have read all of it.' });
  messages.push({ role: 'user', content: question });
  return { model: 'claude-sonnet-4-5', max_tokens: 4096, system, tools: tools(extraTools, 'anthropic'),
    messages, metadata: { user_id: 'u-7' } };
}

function chat(calls) {
  const messages = [{ role: 'system', content: system }, { role: 'user', content: task }];
  calls.forEach(([name, input, output], i) => {
    const id = `call_${i}AbC9`;
    messages.push({ role: 'assistant', content: null, tool_calls: [{ id, type: 'function',
      function: { name, arguments: JSON.stringify(input) } }] });
    messages.push({ role: 'tool', tool_call_id: id, content: output });
  });
  messages.push({ role: 'assistant', content: 'I have read all of it.' });
  messages.push({ role: 'user', content: question });
  return { model: 'gpt-4o-2024-08-06', messages, tools: tools([], 'chat'), temperature: 0 };
}

function responses(calls) {
  const input = [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: task }] }];
  calls.forEach(([name, args, output], i) => {
    const id = `call_r${i}Zz`;
    input.push({ type: 'function_call', call_id: id, name, arguments: JSON.stringify(args) });
    input.push({ type: 'function_call_output', call_id: id, output });
  });
  input.push({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'I have read all of it.' }] });
  input.push({ type: 'message', role: 'user', content: [{ type: 'input_text', text: question }] });
  return { model: 'gpt-5-codex', instructions: system, input, tools: tools([], 'responses'), store: false, stream: true };
}

function tools(extra, shape) {
  const base = [
    ['bash', 'Run a shell command and return its output.', { command: { type: 'string' } }],
    ['read_file', 'Read a file from the workspace.', { path: { type: 'string' } }],
    ['http_get', 'GET a URL and return the body.', { url: { type: 'string' } }],
    ...extra,
  ];
  return base.map(([name, description, props]) => {
    const schema = { type: 'object', properties: props, required: Object.keys(props) };
    if (shape === 'anthropic') return { name, description, input_schema: schema };
    if (shape === 'chat') return { type: 'function', function: { name, description, parameters: schema } };
    return { type: 'function', name, description, parameters: schema };
  });
}

// Raw JSON touches the compressor must keep exactly: a 20-digit integer, a
// float written with a trailing zero, escapes that JSON.stringify would not use.
const rawTouches = (text) => text.replace('"user_id":"u-7"', '"user_id":"u-7","trace":12345678901234567890,"ratio":1.50')
  .replace('R\u00e9sum\u00e9', 'R\\u00e9sum\\u00e9 \\/');

const calls = [...heavy, ...small.map(([c, o]) => ['bash', { command: c }, o])];
const write = (name, obj, pretty) => writeFileSync(`${out}/${name}.json`,
  rawTouches(pretty ? JSON.stringify(obj, null, 2) : JSON.stringify(obj)) + '\n');
write('long-anthropic', anthropic(calls));
write('long-chat', chat(calls), true);
write('long-responses', responses(calls));
writeFileSync(`${out}/long.facts`, facts.join('\n') + '\n');

// the seed table's other two kinds
const short = anthropic([]);
short.messages = [{ role: 'user', content: 'Write a C function that reverses a singly linked list in place. ' +
  readFileSync('/usr/share/common-licenses/BSD', 'utf8').slice(0, 1200) }];
write('short-anthropic', short);

const schemaTools = [];
for (const f of sh('ls /usr/bin | head -40').trim().split('\n'))
  schemaTools.push([`run_${f.replace(/[^a-z0-9_]/gi, '_')}`, `Run /usr/bin/${f} with the given arguments and return ` +
    'its standard output and standard error, its exit status, and how long it ran.',
    { args: { type: 'array', items: { type: 'string' } }, cwd: { type: 'string' }, timeout_s: { type: 'integer' } }]);
const many = anthropic(small.map(([c, o]) => ['bash', { command: c }, o]), { extraTools: schemaTools });
write('tools-anthropic', many);
