// Two-factor login in real headless Chromium: set up on Account & Settings
// (the key read from the page, the code computed here as an app would),
// the recovery codes shown once, then a login that asks for the code; and
// the enrolment a server with SialiRequireTwoFactor asks for at login.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startServer, launch, shot, signupIn, loginIn } from './harness.mjs';

let open, strict, browser;

before(async () => {
  open = await startServer();
  strict = await startServer({ directives: ['SialiRequireTwoFactor On'] });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await open?.stop();
  await strict?.stop();
});

// RFC 6238 as authenticator apps do it: HMAC-SHA-1 over the 30 s step
function totp(secret, t = Date.now() / 1000) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(Math.floor(t / 30)));
  const mac = createHmac('sha1', key).update(msg).digest();
  const off = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0');
}

// a code computed now still names the server's step when it arrives
async function awayFromStepEdge() {
  const left = 30 - (Date.now() / 1000) % 30;
  if (left < 3) await new Promise((r) => setTimeout(r, (left + 0.2) * 1000));
}

test('2FA: set up on Account with the key from the page, codes shown once, login asks', async () => {
  const page = await (await browser.newContext()).newPage();
  await signupIn(page, open.url, 'tfa@example.org');
  await page.goto(`${open.url}/user/account/`);
  await page.waitForSelector('#tfa-start');
  await page.click('#tfa-start');
  await page.waitForSelector('#tfa-secret');
  const secret = (await page.textContent('#tfa-secret')).trim();
  assert.match(secret, /^[A-Z2-7]{32}$/);
  assert.ok(await page.isVisible('#tfa-qr'));
  await shot(page, 'twofactor-setup');
  // a wrong code: the field says so, nothing turned on
  await page.fill('#tfa-code', totp(secret) === '000000' ? '111111' : '000000');
  await page.fill('#tfa-enable-password', 'secret-pass-1');
  await page.click('#tfa-enable-form button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#tfa-code-error').textContent !== '');
  await awayFromStepEdge();
  await page.fill('#tfa-code', totp(secret));
  await page.click('#tfa-enable-form button[type=submit]');
  await page.waitForSelector('#tfa-codes');
  const codes = await page.$$eval('#tfa-codes li code', (n) => n.map((x) => x.textContent));
  assert.equal(codes.length, 10);
  assert.match(await page.textContent('#tfa-on'), /10 recovery codes left/);
  await shot(page, 'twofactor-on');
  // shown once: a reload lists none
  await page.reload();
  await page.waitForSelector('#tfa-on');
  assert.equal(await page.$('#tfa-codes'), null);

  // a new browser: the password, then the code page
  const other = await (await browser.newContext()).newPage();
  await loginIn(other, open.url, 'tfa@example.org', 'secret-pass-1');
  assert.match(other.url(), /\/user\/login\/two-factor\/$/);
  await shot(other, 'twofactor-login');
  await other.fill('#code', '12345');
  await Promise.all([other.waitForURL(/./), other.click('button[type=submit]')]);
  assert.ok(await other.isVisible('#code-error'));
  await other.fill('#code', codes[0]);   // a recovery code, this time
  await Promise.all([other.waitForURL(/\/people\/|\/$/), other.click('button[type=submit]')]);
  const me = await other.evaluate(async () => (await fetch('/api/current-user/whoami')).json());
  assert.equal(me.email, 'tfa@example.org');
  await other.goto(`${open.url}/user/account/`);
  await other.waitForSelector('#tfa-on');
  assert.match(await other.textContent('#tfa-on'), /9 recovery codes left/);
  // off again, with the password and a code
  await other.fill('#tfa-password', 'secret-pass-1');
  await other.fill('#tfa-off-code', codes[1]);
  await other.click('#tfa-disable-form button[type=submit]');
  await other.waitForSelector('#tfa-start');
  await page.context().close();
  await other.context().close();
});

test('2FA required: the login page enrols, with the key read from it', async () => {
  const page = await (await browser.newContext()).newPage();
  await signupIn(page, strict.url, 'must@example.org');
  const fresh = await (await browser.newContext()).newPage();
  await loginIn(fresh, strict.url, 'must@example.org', 'secret-pass-1');
  assert.match(fresh.url(), /\/user\/login\/two-factor\/$/);
  const secret = (await fresh.textContent('#totp-secret')).trim();
  assert.ok(await fresh.$('figure.qr svg'));
  await shot(fresh, 'twofactor-enrol');
  await awayFromStepEdge();
  await fresh.fill('#code', totp(secret));
  await Promise.all([fresh.waitForURL(/./), fresh.click('button[type=submit]')]);
  assert.equal(await fresh.$$eval('.recovery-codes li', (n) => n.length), 10);
  await shot(fresh, 'twofactor-codes');
  await Promise.all([fresh.waitForURL(/./), fresh.click('a.button-link')]);
  const me = await fresh.evaluate(async () => (await fetch('/api/current-user/whoami')).json());
  assert.equal(me.email, 'must@example.org');
  await page.context().close();
  await fresh.context().close();
});
