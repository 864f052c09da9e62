// Times tiktoken@1.0.22 (WASM) encode_ordinary on files: prints MB/s per file,
// best of several runs, to compare with scripts/bench_count.c in one run.
// Usage: node bench-tiktoken.mjs ENCODING FILE...
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { get_encoding } = require('tiktoken');
const [encoding, ...files] = process.argv.slice(2);
const enc = get_encoding(encoding);
for (const file of files) {
  const buf = readFileSync(file);
  const text = buf.toString('utf8');
  let best = Infinity, runs = 0, n = 0;
  const start = performance.now();
  while (runs < 3 || performance.now() - start < 1000) {
    const t0 = performance.now();
    n = enc.encode_ordinary(text).length;
    best = Math.min(best, (performance.now() - t0) / 1000);
    runs++;
  }
  console.log(`${file}\t${buf.length}\t${n}\t${best.toFixed(4)}\t${(buf.length / best / 1e6).toFixed(1)}`);
}
enc.free();
