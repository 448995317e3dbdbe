// A reset link made in the member panel, in real headless Chromium: the
// administrator copies it, the member opens it in another browser, sets a
// new password once, and the old sessions are gone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, shot, signupIn, loginIn } from './harness.mjs';

let open, browser;

before(async () => {
  open = await startServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await open?.stop();
});

test('reset link: made in the member panel, used once in another browser', async () => {
  const admin = await (await browser.newContext()).newPage();
  await signupIn(admin, open.url, 'admin@example.org');
  const member = await (await browser.newContext()).newPage();
  await signupIn(member, open.url, 'ann@example.org');
  await admin.goto(`${open.url}/people/`);
  await admin.locator('table.people tbody tr', { hasText: 'ann@example.org' }).click();
  await admin.waitForSelector('#member-reset-link');
  await admin.click('#member-reset-link');
  await admin.click('dialog.modal button[type=submit]');
  await admin.waitForSelector('#reset-link-url');
  const url = await admin.inputValue('#reset-link-url');
  assert.match(url, /\/user\/reset-password\/\?token=[A-Za-z0-9_-]{43}$/);
  await shot(admin, 'resetlink-panel');
  // the member's own panel of themselves shows no such button
  await admin.locator('table.people tbody tr', { hasText: 'admin@example.org' }).click();
  await admin.waitForFunction(() => document.querySelector('#detail-email')?.textContent
    === 'admin@example.org');
  assert.equal(await admin.locator('#member-reset-link').count(), 0);

  const other = await (await browser.newContext()).newPage();
  await other.goto(url);
  assert.match(await other.textContent('main'), /ann@example\.org/);
  await shot(other, 'resetlink-form');
  await other.fill('#password', 'short');
  await Promise.all([other.waitForURL(/./), other.click('button[type=submit]')]);
  assert.ok(await other.isVisible('#password-error'));
  await other.fill('#password', 'a-new-pass-123');
  await Promise.all([other.waitForURL(/./), other.click('button[type=submit]')]);
  assert.match(await other.textContent('main'), /Password set/);
  // the member's old session ended; the new password signs in; the link is spent
  const status = await member.evaluate(async () => (await fetch('/api/current-user/whoami')).status);
  assert.equal(status, 401);
  await loginIn(other, open.url, 'ann@example.org', 'a-new-pass-123');
  const me = await other.evaluate(async () => (await fetch('/api/current-user/whoami')).json());
  assert.equal(me.email, 'ann@example.org');
  await other.goto(url);
  assert.match(await other.textContent('main'), /does not work/);
  for (const p of [admin, member, other]) await p.context().close();
});
