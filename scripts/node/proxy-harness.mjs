// What the Node proxy tests share: a free loopback port, and a real hr-proxy
// started on one with its own log folder, stopped when the test script ends.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const freePort = () => new Promise((r) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => {
  const p = s.address().port; s.close(() => r(p)); }); });

// Whatever ends the test script, no proxy it started outlives it.
const children = [];
process.on('exit', () => { for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL'); });

// startProxy(extra flags, extra environment) for the hr-proxy at proxyBin,
// its log folders under tmp: once /health answers, { port, url, logDir,
// child, exited, stderr(), raw() (the log's text), log() (its records),
// stop() }.
export function proxyStarter(proxyBin, tmp) {
  return async function startProxy(extra = [], env = {}) {
    const port = await freePort();
    const logDir = mkdtempSync(path.join(tmp, 'logs-'));
    const child = spawn(proxyBin, ['--listen', `127.0.0.1:${port}`, '--log-dir', logDir, ...extra],
      { env: { ...process.env, HEADROOM_HOME: path.join(tmp, 'no-home'), ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const exited = new Promise((r) => child.on('exit', (code, sig) => r({ code, sig })));
    for (let i = 0; i < 100; i++) {
      try { const r = await fetch(`http://127.0.0.1:${port}/health`); if (r.status) break; } catch { /* not yet */ }
      await sleep(50);
    }
    const logFile = path.join(logDir, 'requests.jsonl');
    const raw = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
    return { port, url: `http://127.0.0.1:${port}`, logDir, child, exited, stderr: () => stderr, raw,
      log: () => raw().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)),
      stop: async () => { child.kill('SIGTERM'); return exited; } };
  };
}
