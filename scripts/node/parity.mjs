// Token-id parity of hr-count against OpenAI's tiktoken (npm tiktoken@1.0.22, the
// Rust implementation built to WASM), for cl100k_base and o200k_base, on text
// already on the machine and on generated edge cases.
// Usage: node scripts/node/parity.mjs HR_COUNT_BINARY
// Prints one "ok"/"not ok" line per corpus and encoding; exits 1 on any mismatch.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync, statSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const { get_encoding } = require('tiktoken');
const hrCount = process.argv[2];
if (!hrCount) {
  console.error('usage: parity.mjs HR_COUNT_BINARY');
  process.exit(2);
}

// Files under dir matching re, in a stable order, up to maxBytes in all.
function collect(dir, re, maxBytes) {
  const out = [];
  let total = 0;
  const walk = (d) => {
    let names;
    try { names = readdirSync(d).sort(); } catch { return; }
    for (const name of names) {
      if (total >= maxBytes) return;
      const p = join(d, name);
      let st;
      try { st = statSync(p); } catch { continue; }
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && re.test(name) && st.size > 0 && st.size < 4 << 20) {
        out.push(p);
        total += st.size;
      }
    }
  };
  walk(dir);
  return out;
}

// A deterministic generator, so a failure can be reproduced.
function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const work = mkdtempSync(join(tmpdir(), 'hr-parity-'));
const generated = {};
function generate(name, bytes) {
  const p = join(work, name);
  writeFileSync(p, bytes);
  generated[name] = p;
  return p;
}

// Every Unicode scalar value X in the frame "X's X".
{
  const parts = [];
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const ch = String.fromCodePoint(cp);
    parts.push(`${ch}'s ${ch}`);
  }
  generate('every-scalar', Buffer.from(parts.join('\n'), 'utf8'));
}
// Tricky pieces in random order: contractions in any case (and U+017F), marks,
// titlecase and modifier letters, Unicode digits, White_Space edge cases
// (U+0085, U+00A0, U+2028 are White_Space; U+180E and U+FEFF are not),
// long whitespace and digit runs, CR/LF mixes, slashes, special-token text.
{
  const pieces = ["'s", "'S", "'\u017f", "'t", "'T", "'re", "'RE", "'rE", "'ve", "'Ve", "'m", "'M",
    "'ll", "'LL", "'lL", "'d", "'D", "'", "''", 'x', 'X', 'hello', 'HELLO', 'Hello', 'CamelCase',
    'e\u0301', '\u0301', '\u0903', 'ǅ', 'ʰ', 'ꜰ', '中文', '日本語', '😀', '👩‍💻', '\u0085', '\u00a0',
    '\u2028', '\u2029', '\u3000', '\u180e', '\ufeff', '\u200b', ' ', '  ', '   ', '\t', '\t\t',
    '\r\n', '\n', '\n\n', '\r', '\r\r\n', ' \n ', '1', '12', '123', '1234567', '٣٤٥', 'Ⅻ', '½',
    '//', '/\n', '/', '!?', '...', '---', '<|endoftext|>', '<|endofprompt|>', '<|fim_prefix|>',
    '$', '€', '\u0000', '\u007f', 'ΣΑΣ', 'straße', 'İstanbul', 'ǈ', 'ﬁ', 'Ⓐ', 'ⓐ', '\u0345'];
  const r = rng(42);
  const out = [];
  for (let i = 0; i < 200000; i++) out.push(pieces[Math.floor(r() * pieces.length)]);
  // long runs, each at the end of the text and followed by other text
  out.push(' '.repeat(5000), 'x', '\t'.repeat(300), '\n', '9'.repeat(1000), 'a', ' \r\n'.repeat(500));
  generate('edge-pieces', Buffer.from(out.join(''), 'utf8'));
  generate('trailing-spaces', Buffer.from('end of text' + ' '.repeat(777), 'utf8'));
  generate('long-word', Buffer.from('ab'.repeat(20000) + 'xyz'.repeat(5000), 'utf8'));
}
// Invalid UTF-8: tiktoken encodes strings, so both sides read the bytes as the
// WHATWG decoder does (each maximal ill-formed subpart becomes U+FFFD).
{
  const r = rng(7);
  const chunks = [];
  const bad = [[0x80], [0xbf], [0xc0, 0xaf], [0xc2], [0xe0, 0x80, 0x80], [0xe0, 0xa0], [0xed, 0xa0, 0x80],
    [0xf0, 0x8f, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xf5], [0xff], [0xfe], [0xf0, 0x9f, 0x98]];
  for (let i = 0; i < 20000; i++) {
    const k = r();
    if (k < 0.3) chunks.push(Buffer.from(bad[Math.floor(r() * bad.length)]));
    else if (k < 0.5) chunks.push(Buffer.from([Math.floor(r() * 256)]));
    else chunks.push(Buffer.from(["it's", ' ok', ' ünï', '\r\n', '42', ' ', '😀', 'ab'][Math.floor(r() * 8)], 'utf8'));
  }
  generate('invalid-utf8', Buffer.concat(chunks));
}

const corpora = [
  ['common-licenses', collect('/usr/share/common-licenses', /./, 8 << 20)],
  ['c-headers', collect('/usr/include', /\.h$/, 6 << 20)],
  ['json', collect('/usr/share', /\.json$/, 3 << 20)],
  ['python', collect('/usr/lib/python3', /\.py$/, 4 << 20).concat(collect('/usr/lib/python3.11', /\.py$/, 4 << 20))],
  ['every-scalar', [generated['every-scalar']]],
  ['edge-cases', [generated['edge-pieces'], generated['trailing-spaces'], generated['long-word']]],
  ['invalid-utf8', [generated['invalid-utf8']]],
];

const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
let failures = 0;
for (const encoding of ['cl100k_base', 'o200k_base']) {
  const enc = get_encoding(encoding);
  for (const [name, files] of corpora) {
    if (files.length === 0) {
      console.log(`skip ${encoding} ${name}: no files found on this machine`);
      continue;
    }
    let bytes = 0, tokens = 0, mismatches = 0;
    // hr-count prints one line of ids per input, in order.
    for (let i = 0; i < files.length; i += 200) {
      const batch = files.slice(i, i + 200);
      const out = execFileSync(hrCount, ['-e', encoding, '--ids', ...batch], { maxBuffer: 1 << 30 }).toString();
      const lines = out.split('\n');
      batch.forEach((file, k) => {
        const buf = readFileSync(file);
        bytes += buf.length;
        const want = enc.encode_ordinary(decoder.decode(buf));
        const got = lines[k] === '' ? [] : lines[k].split(' ').map(Number);
        tokens += want.length;
        let at = -1;
        for (let j = 0; j < Math.max(want.length, got.length); j++) if (want[j] !== got[j]) { at = j; break; }
        if (at >= 0) {
          mismatches++;
          if (mismatches <= 3) {
            const show = (ids) => JSON.stringify(Buffer.from(enc.decode(Uint32Array.from(ids.filter((x) => Number.isInteger(x))))).toString('utf8'));
            console.log(`# ${encoding} ${file}: first difference at token ${at} of ${want.length}`);
            console.log(`#   tiktoken: ${Array.from(want.slice(Math.max(0, at - 2), at + 3)).join(' ')} ${show(Array.from(want.slice(Math.max(0, at - 2), at + 3)))}`);
            console.log(`#   hr-count: ${got.slice(Math.max(0, at - 2), at + 3).join(' ')} ${show(got.slice(Math.max(0, at - 2), at + 3))}`);
          }
        }
      });
    }
    failures += mismatches;
    console.log(`${mismatches ? 'not ok' : 'ok'} parity ${encoding} ${name}: ${files.length} files, ${bytes} bytes, ${tokens} tokens, ${mismatches} mismatches`);
  }
  enc.free();
}
rmSync(work, { recursive: true, force: true });
process.exit(failures ? 1 : 0);
