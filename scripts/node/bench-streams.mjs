// Streams through hr-proxy, for scripts/bench-proxy: time to first byte of
// an SSE answer straight from the upstream and through the proxy, then many
// streams held open at once through the proxy, with the proxy's memory.
//   node bench-streams.mjs DIRECT_URL PROXY_URL PROXY_PID [STREAMS] [HOLD_S]
import http from 'node:http';
import { readFileSync } from 'node:fs';

const [direct, proxied, pid, streamsArg, holdArg] = process.argv.slice(2);
const STREAMS = Number(streamsArg || 1000), HOLD_S = Number(holdArg || 8);
const BODY = JSON.stringify({ model: 'claude-bench', max_tokens: 16, stream: true,
  messages: [{ role: 'user', content: 'Say ok.' }] });
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

// One streaming request; resolves with the time to the first body byte and
// whether the stream ended with message_stop.
function stream(base, hold, onFirst) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    let ttfb = null, text = '';
    const headers = { 'content-type': 'application/json', 'x-api-key': 'sk-ant-bench',
      'anthropic-version': '2023-06-01', 'content-length': Buffer.byteLength(BODY) };
    if (hold) headers['x-bench-hold'] = String(hold);
    const req = http.request(`${base}/v1/messages`, { method: 'POST', agent, headers }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (d) => {
        if (ttfb === null) {
          ttfb = Number(process.hrtime.bigint() - t0) / 1e6;
          if (onFirst) onFirst();
        }
        text += d;
      });
      res.on('end', () => resolve({ ttfb, complete: text.includes('message_stop') }));
    });
    req.on('error', reject);
    req.end(BODY);
  });
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function ttfbSeries(base, n) {
  const xs = [];
  for (let i = 0; i < n; i++) xs.push((await stream(base, 0)).ttfb);
  return xs;
}

const rss = () => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number((status.match(new RegExp(`${k}:\\s+(\\d+)`)) || [])[1]);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
};

await ttfbSeries(direct, 200); // warm both paths
await ttfbSeries(proxied, 200);
const d = await ttfbSeries(direct, 2000), p = await ttfbSeries(proxied, 2000);
console.log('stream time to first byte, 2000 sequential streams (ms):');
console.log(`  direct  p50 ${pct(d, 50).toFixed(3)}  p99 ${pct(d, 99).toFixed(3)}`);
console.log(`  proxied p50 ${pct(p, 50).toFixed(3)}  p99 ${pct(p, 99).toFixed(3)}`);
console.log(`  added   p50 ${(pct(p, 50) - pct(d, 50)).toFixed(3)}  p99 ${(pct(p, 99) - pct(d, 99)).toFixed(3)}`);

const before = rss();
let open = 0, allOpen;
const opened = new Promise((r) => { allOpen = r; });
const t0 = Date.now();
const runs = [];
for (let i = 0; i < STREAMS; i++) {
  runs.push(stream(proxied, HOLD_S, () => { if (++open === STREAMS) allOpen(); }));
}
await opened;
const openMs = Date.now() - t0;
await new Promise((r) => setTimeout(r, 1000));
const during = rss();
const results = await Promise.allSettled(runs);
const complete = results.filter((r) => r.status === 'fulfilled' && r.value.complete).length;
console.log(`${STREAMS} streams open at once through the proxy (each held ${HOLD_S} s):`);
console.log(`  all first events received after ${openMs} ms; ${complete}/${STREAMS} completed intact`);
console.log(`  proxy RSS before ${before.rss.toFixed(1)} MB, with all open ${during.rss.toFixed(1)} MB, peak ${rss().hwm.toFixed(1)} MB`);
agent.destroy();
process.exit(complete === STREAMS ? 0 : 1);
