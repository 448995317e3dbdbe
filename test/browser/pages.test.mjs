// mod_siali's pages in real headless Chromium: the flows people use.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, shot, png, signupIn, loginIn } from './harness.mjs';

let open, browser;
const dialogs = [];

before(async () => {
  open = await startServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await open?.stop();
});

async function newPage(ctx) {
  const page = await (ctx || await browser.newContext()).newPage();
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  return page;
}

let owner;   // the first account's page, logged in

test('first signup lands on People', async () => {
  owner = await newPage();
  await signupIn(owner, open.url, 'owner@example.org');
  assert.match(owner.url(), /\/people\/$/);
  await owner.waitForSelector('table.people tbody tr');
  assert.equal(await owner.locator('table.people tbody tr').count(), 1);
  assert.match(await owner.textContent('#app'), /owner@example\.org/);
  await shot(owner, 'people-first');
});

test('login and signup pages', async () => {
  const page = await newPage();
  await page.goto(`${open.url}/user/login/`);
  assert.equal(await page.getAttribute('#email', 'autofocus'), '');
  await page.fill('#email', 'owner@example.org');
  await page.fill('#password', 'wrong-password');
  await page.click('button[type=submit]');
  assert.match(await page.textContent('.error'), /don't match/);
  await shot(page, 'login');
  await page.goto(`${open.url}/user/signup/`);
  await page.fill('#email', 'not an email');
  await page.fill('#password', 'x');
  await page.click('button[type=submit]');
  assert.match(await page.textContent('#email-error'), /valid email/);
  assert.match(await page.textContent('#password-error'), /at least 8/);
  await shot(page, 'signup');
});

test('invite link: copy, reset makes the old one stale', async () => {
  await owner.goto(`${open.url}/people/`);
  await owner.click('#add-people');
  await owner.waitForFunction(() => document.querySelector('#invite-link')?.value);
  const first = await owner.inputValue('#invite-link');
  assert.match(first, /\/user\/signup\/\?token=/);
  await shot(owner, 'invite-dialog');
  await owner.click('#copy-link');
  await owner.click('#reset-link');
  await owner.waitForFunction((old) => document.querySelector('#invite-link').value !== old, first);
  const second = await owner.inputValue('#invite-link');
  assert.notEqual(first, second);
  await owner.click('#close-invite');
  // a stranger with the old link: told at once, and refused
  const stranger = await newPage();
  await stranger.goto(first);
  assert.match(await stranger.textContent('.notice'), /no longer valid/);
  await stranger.fill('#email', 'late@example.org');
  await stranger.fill('#password', 'secret-pass-1');
  await stranger.click('button[type=submit]');
  assert.match(await stranger.textContent('body'), /ask for an invitation link/);
  // the new link works
  await stranger.goto(second);
  await stranger.fill('#email', 'invited@example.org');
  await stranger.fill('#password', 'secret-pass-1');
  await Promise.all([stranger.waitForURL(/people/), stranger.click('button[type=submit]')]);
});

test('search and pagination over 120 members', async () => {
  open.seed(120);
  await owner.goto(`${open.url}/people/`);
  await owner.waitForSelector('table.people tbody tr');
  assert.equal(await owner.locator('table.people tbody tr').count(), 20);
  assert.match(await owner.textContent('#page-info'), /Page 1 of 7/);
  await owner.click('#next');
  await owner.waitForFunction(() => /Page 2 of/.test(document.querySelector('#page-info').textContent));
  assert.equal(await owner.locator('table.people tbody tr').count(), 20);
  await owner.fill('#search', 'user00011');
  await owner.waitForFunction(() => /^10 people/.test(document.querySelector('.status').textContent));
  assert.equal(await owner.locator('table.people tbody tr').count(), 10);
  await owner.fill('#search', '');
  await owner.selectOption('#ordering', '-last_activity');
  await owner.waitForFunction(() => /Page 1 of/.test(document.querySelector('#page-info').textContent));
  const times = await owner.locator('table.people tbody time').first().getAttribute('title');
  assert.ok(times.length > 0, 'exact time on hover');
  await shot(owner, 'people');
});

// the table shows exactly one row, for this email (not the last search's)
async function onlyRow(page, email) {
  await page.waitForFunction((e) => {
    const cells = document.querySelectorAll('table.people tbody td.email');
    return cells.length === 1 && cells[0].textContent === e;
  }, email);
}

test('detail panel shows created and contributed projects', async () => {
  await owner.fill('#search', 'user000010');
  await onlyRow(owner, 'user000010@seed.example');
  await owner.click('table.people tbody tr');
  await owner.waitForSelector('#detail h3');
  const text = await owner.textContent('#detail');
  assert.match(text, /Created projects\s*Project 10/);
  assert.match(text, /user000010@seed\.example/);
  await owner.fill('#search', 'user000011');
  await onlyRow(owner, 'user000011@seed.example');
  await owner.click('table.people tbody tr');
  await owner.waitForFunction(() => /Contributed to\s*Project 10/.test(document.querySelector('#detail').textContent));
  await shot(owner, 'people-detail');
  // deactivate with confirmation, then reactivate
  await owner.click('#toggle-active');
  await owner.click('dialog.modal button[type=submit]');
  await owner.waitForFunction(() => document.querySelector('#toggle-active')?.textContent === 'Reactivate');
  await owner.click('#toggle-active');
  await owner.click('dialog.modal button[type=submit]');
  await owner.waitForFunction(() => document.querySelector('#toggle-active')?.textContent === 'Deactivate');
  // delete asks first; Cancel keeps the member, Delete removes them
  await owner.fill('#search', 'user000119');
  await onlyRow(owner, 'user000119@seed.example');
  await owner.click('table.people tbody tr');
  await owner.waitForSelector('#delete-member');
  await owner.click('#delete-member');
  await owner.click('dialog.modal button.secondary');
  assert.equal(await owner.locator('table.people tbody tr').count(), 1);
  await owner.click('#delete-member');
  await owner.click('dialog.modal button[type=submit]');
  await owner.waitForFunction(() => /^Nobody matches/.test(document.querySelector('.status').textContent));
});

test('a name full of markup shows as text, no dialog opens', async () => {
  const ctx = await browser.newContext();
  const evil = await newPage(ctx);
  await signupIn(evil, open.url, 'evil@example.org');
  const me = await evil.evaluate(async () => (await fetch('/api/current-user/whoami')).json());
  const r = await evil.evaluate(async (id) => (await fetch(`/api/users/${id}`, {
    method: 'PATCH', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ first_name: '<img src=x onerror=alert(1)>', last_name: '<script>alert(2)</script>' }),
  })).status, me.id);
  assert.equal(r, 200);
  await owner.fill('#search', 'evil@');
  await onlyRow(owner, 'evil@example.org');
  assert.match(await owner.textContent('table.people tbody'), /<img src=x onerror=alert\(1\)>/);
  await owner.click('table.people tbody tr');
  await owner.waitForSelector('#detail h2');
  assert.match(await owner.textContent('#detail h2'), /<script>alert\(2\)<\/script>/);
  assert.equal(await owner.locator('#detail img[src=x], table img[src=x]').count(), 0);
  await evil.goto(`${open.url}/user/account/`);
  await evil.waitForSelector('#first_name');
  await evil.waitForTimeout(200);
  assert.deepEqual(dialogs, []);
});

test('account: avatar upload, client-side size check, removal', async () => {
  await owner.goto(`${open.url}/user/account/`);
  await owner.waitForSelector('#avatar-file');
  await owner.setInputFiles('#avatar-file', { name: 'big.png', mimeType: 'image/png', buffer: png(600, 600) });
  await owner.waitForFunction(() => /512 x 512/.test(document.querySelector('#avatar-error').textContent));
  assert.equal(await owner.isDisabled('#avatar-upload'), true);
  await owner.setInputFiles('#avatar-file', { name: 'me.png', mimeType: 'image/png', buffer: png(64, 64) });
  await owner.waitForFunction(() => !document.querySelector('#avatar-upload').disabled);
  await owner.click('#avatar-upload');
  await owner.waitForFunction(() => document.querySelector('#avatar-preview img')?.src.includes('/data/avatars/'));
  const src = await owner.getAttribute('#avatar-preview img', 'src');
  const res = await owner.evaluate(async (u) => (await fetch(u)).headers.get('content-type'), src);
  assert.equal(res, 'image/png');
  await owner.reload();
  await owner.waitForSelector('#user-button img.avatar');
  await shot(owner, 'account');
  await owner.click('#avatar-remove');
  await owner.waitForFunction(() => !document.querySelector('#avatar-preview img'));
  // profile
  await owner.fill('#first_name', 'Olga');
  await owner.fill('#last_name', 'Owner');
  await owner.fill('#phone', '+1 555 0100');
  await owner.click('#profile-form button[type=submit]');
  await owner.waitForSelector('.toast');
  const me = await owner.evaluate(async () => (await fetch('/api/current-user/whoami')).json());
  assert.equal(me.initials, 'OO');
  assert.equal(me.phone, '+1 555 0100');
});

test('account: token show, reset with confirmation, the old one refused', async () => {
  await owner.goto(`${open.url}/user/account/`);
  await owner.waitForSelector('#token');
  assert.equal(await owner.getAttribute('#token', 'type'), 'password');
  await owner.click('#token-show');
  const old = await owner.inputValue('#token');
  assert.match(old, /^[0-9a-f]{40}$/);
  await owner.click('#token-reset');
  await owner.click('dialog.modal button[type=submit]');
  await owner.waitForFunction((o) => document.querySelector('#token').value !== o, old);
  const fresh = await owner.inputValue('#token');
  const check = async (t) => (await fetch(`${open.url}/api/current-user/whoami`,
    { headers: { Authorization: `Token ${t}` } })).status;
  assert.equal(await check(old), 401);
  assert.equal(await check(fresh), 200);
});

test('account: recent security activity lists the account\'s own events', async () => {
  await owner.goto(`${open.url}/user/account/`);
  await owner.waitForSelector('#activity-list li[data-event]');
  const events = await owner.locator('#activity-list li').evaluateAll(
    (ls) => ls.map((l) => l.dataset.event));
  // newest first: the token reset of the test before, then the signup
  assert.equal(events[0], 'token_reset');
  assert.equal(events.at(-1), 'signup');
  assert.match(await owner.locator('#activity-list li').first().textContent(),
    /Legacy API token reset .* from 127\.0\.0\.1/);
  await owner.locator('#activity-section').scrollIntoViewIfNeeded();
  await shot(owner, 'account-activity');
});

test('change password, log out, log in again', async () => {
  await owner.goto(`${open.url}/user/account/`);
  await owner.waitForSelector('#current_password');
  await owner.fill('#current_password', 'wrong-pass-1');
  await owner.fill('#new_password', 'brand-new-pass-1');
  await owner.click('#password-form button[type=submit]');
  await owner.waitForFunction(() => document.querySelector('#current_password-error').textContent);
  await owner.fill('#current_password', 'secret-pass-1');
  await owner.fill('#new_password', 'brand-new-pass-1');
  await owner.click('#password-form button[type=submit]');
  await owner.waitForFunction(() => /Password changed/.test(document.body.textContent));
  // log out from the user menu
  await owner.click('#user-button');
  await Promise.all([owner.waitForURL(/\/user\/login\//), owner.click('#user-menu button[type=submit]')]);
  await owner.goto(`${open.url}/people/`);
  assert.match(owner.url(), /\/user\/login\/\?next=/);
  await loginIn(owner, open.url, 'owner@example.org', 'brand-new-pass-1');
  assert.match(owner.url(), /\/people\/$/);
});

test('restricted signup needs the invite link (second browser context)', async () => {
  const closed = await startServer({
    args: ['--username', 'boss@example.org', '--password', 'boss-pass-1'],
    directives: ['SialiDisableSignupWithoutLink On'],
  });
  try {
    const boss = await newPage();
    await loginIn(boss, closed.url, 'boss@example.org', 'boss-pass-1');
    const link = await boss.evaluate(async () => (await fetch('/api/invite')).json());
    const other = await newPage(await browser.newContext());
    await other.goto(`${closed.url}/user/signup/`);
    assert.match(await other.textContent('.notice'), /need an invitation link/);
    await other.fill('#email', 'nolink@example.org');
    await other.fill('#password', 'secret-pass-1');
    await other.click('button[type=submit]');
    assert.match(await other.textContent('body'), /ask for an invitation link/);
    await other.goto(closed.url + link.invite_url);
    assert.match(await other.textContent('.notice'), /You were invited/);
    await other.fill('#email', 'withlink@example.org');
    await other.fill('#password', 'secret-pass-1');
    await Promise.all([other.waitForURL(/people/), other.click('button[type=submit]')]);
    await other.waitForSelector('table.people tbody tr');
  } finally {
    await closed.stop();
  }
});

test('keyboard: the menus and a row open without a mouse', async () => {
  await owner.goto(`${open.url}/people/`);
  await owner.waitForSelector('table.people tbody tr');
  await owner.focus('#nav-button');
  await owner.keyboard.press('Enter');
  assert.equal(await owner.isVisible('#nav-menu'), true);
  await owner.keyboard.press('Escape');
  assert.equal(await owner.isVisible('#nav-menu'), false);
  await owner.focus('table.people tbody tr');
  await owner.keyboard.press('Enter');
  await owner.waitForSelector('#detail h2');
});
