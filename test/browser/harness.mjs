// Starts mod_siali through `siali start` on a free 127.0.0.1 port with its
// own state folder, and Debian's Chromium through playwright-core.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, chmodSync, rmSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const BUILD = process.env.SIALI_BUILD_DIR || resolve(here, '..', '..');
export const SHOTS = process.env.SIALI_SCREENSHOTS || resolve(BUILD, 'out', 'screenshots');
const CHEAP = 'argon2id m=64 t=1 p=1';

function freePort() {
  return new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

export async function startServer({ args = [], directives = [] } = {}) {
  const state = mkdtempSync(join(tmpdir(), 'siali-browser-'));
  chmodSync(state, 0o755);
  const port = await freePort();
  const db = join(state, 'siali.db');
  const argv = ['--state-dir', state, '--db', `sqlite3:${db}`, '--password-hash', CHEAP, 'start',
    '--port', String(port), '-C', `SialiPasswordHash ${CHEAP}`, ...args];
  for (const d of directives) argv.push('-c', d);
  const proc = spawn(join(BUILD, 'siali'), argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout.on('data', (d) => { log += d; });
  proc.stderr.on('data', (d) => { log += d; });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(`${url}/api/health`);
      if (r.ok) break;
    } catch { /* not up yet */ }
    if (proc.exitCode !== null) throw new Error(`siali start exited:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url, db, state,
    log: () => log,
    seed(n) {
      execFileSync(join(BUILD, 'test', 'bench', 'seed'), [`sqlite3:${db}`, String(n)]);
    },
    async stop() {
      // graceful-stop, as Debian's unit stops apache2 (a plain stop can
      // crash a child in httpd's event MPM)
      proc.kill('SIGWINCH');
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.on('exit', r)));
      rmSync(state, { recursive: true, force: true });
      const bad = log.split('\n').filter((l) => /\[(\w+:)?(error|crit|alert|emerg)\]|AH00052|Segmentation/.test(l));
      if (bad.length) throw new Error(`errors in the server log:\n${bad.join('\n')}`);
    },
  };
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-quic', '--no-first-run', '--disable-sync'],
  });
}

const AXE = readFileSync(join(here, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

// axe-core's WCAG 2.0/2.1 A and AA rules on what the page shows now (an open
// dialog included): the serious and critical violations, as lines
export async function axe(page) {
  if (!await page.evaluate(() => typeof window.axe === 'object')) {
    // through the debugger, which the pages' CSP (default-src 'self') does
    // not govern, as an inline <script> would be refused
    await page.evaluate(`${AXE}\n;0`);
  }
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  return found;
}

// A screenshot at desktop and phone size, each checked by axe first: a
// serious or critical WCAG 2.1 AA violation fails the test that shows it.
export async function shot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  const problems = [];
  for (const [tag, size] of [['desktop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]]) {
    await page.setViewportSize(size);
    await page.evaluate(() => window.scrollTo(0, 0));
    for (const v of await axe(page)) problems.push(`${name} ${tag}: ${v}`);
    await page.screenshot({ path: join(SHOTS, `${name}-${tag}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  if (problems.length) throw new Error(`accessibility (axe-core):\n${problems.join('\n')}`);
}

// A real PNG of w x h pixels, made here (no image library in the tests).
const CRC = new Int32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});
function crc32(buf) {
  let c = -1;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
export function png(w, h, rgb = [37, 99, 235]) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; ihdr[9] = 2;   // 8-bit RGB
  const row = Buffer.alloc(1 + w * 3);
  for (let x = 0; x < w; x++) row.set(rgb, 1 + x * 3);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

export async function signupIn(page, url, email, password = 'secret-pass-1', query = '') {
  await page.goto(`${url}/user/signup/${query}`);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(/./), page.click('button[type=submit]')]);
}

export async function loginIn(page, url, email, password) {
  await page.goto(`${url}/user/login/`);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(/./), page.click('button[type=submit]')]);
}
