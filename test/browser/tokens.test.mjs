// Personal access tokens on Account & Settings and the organization's
// settings on People, in real headless Chromium; the tokens the pages make
// are then used from here, as a script would.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, shot, signupIn } from './harness.mjs';

let open, browser, page;
const dialogs = [];

before(async () => {
  open = await startServer();
  browser = await launch();
  page = await (await browser.newContext()).newPage();
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  await signupIn(page, open.url, 'owner@example.org');
});

after(async () => {
  await browser?.close();
  await open?.stop();
});

// from here, not from the page: no cookie, as a script would call
async function post(path, json, headers = {}) {
  const r = await fetch(`${open.url}${path}`, { method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(json) });
  return { status: r.status, body: await r.json().catch(() => null) };
}
const refresh = (token) => post('/api/token/refresh/', { refresh: token });
async function whoami(authorization) {
  return (await fetch(`${open.url}/api/current-user/whoami`,
    { headers: { Authorization: authorization } })).status;
}

// the page's own session, for what the test reads back
function inPage(path, method = 'GET', json) {
  return page.evaluate(async ([p, m, j]) => {
    const r = await fetch(p, { method: m, headers: j ? { 'Content-Type': 'application/json' } : {},
      body: j ? JSON.stringify(j) : undefined });
    return { status: r.status, body: r.status === 204 ? null : await r.json() };
  }, [path, method, json]);
}

async function account() {
  await page.goto(`${open.url}/user/account/`);
  await page.waitForSelector('#pat-section');
  await page.waitForFunction(() => !document.querySelector('#pat-list').hidden
    || !document.querySelector('#pat-empty').hidden);
}

// People's settings dialog, opened from the keyboard, values loaded
async function settings() {
  await page.goto(`${open.url}/people/`);
  await page.waitForSelector('table.people tbody tr');
  await page.focus('#org-settings');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#settings-dialog fieldset:not([disabled]) #api_tokens_enabled');
  await page.waitForSelector('#settings-dialog fieldset:not([disabled]) #max_session_age');
}

async function saveGroup(form) {
  await page.click(`#${form} button[type=submit]`);
  await page.waitForFunction((f) => /saved\.|Not saved|must|Unknown/.test(
    document.querySelector(`#${f}-status`).textContent), form);
  return page.textContent(`#${form}-status`);
}

test('PAT: create in the page, shown once, refreshes, listed, revoked', async () => {
  await account();
  assert.equal(await page.isVisible('#pat-empty'), true);
  await page.click('#pat-create');
  await page.waitForFunction(() => document.querySelector('#pat-new').value);
  const token = await page.inputValue('#pat-new');
  assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  assert.match(await page.textContent('#pat-once'), /will not be shown again/);
  assert.equal(await page.getAttribute('#pat-status', 'role'), 'status');
  assert.match(await page.textContent('#pat-status'), /Token created/);
  await page.click('#pat-copy');
  await page.waitForFunction(() => /copied|copy it/.test(document.querySelector('#pat-status').textContent));

  // a script trades it for an access token, which signs in
  const r = await refresh(token);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(await whoami(`Bearer ${r.body.access}`), 200);

  // listed by its unsigned form, with dates as the app shows them
  await page.waitForSelector('#pat-list tbody tr');
  assert.equal(await page.locator('#pat-list tbody tr').count(), 1);
  const listed = (await inPage('/api/token/')).body;
  assert.equal(listed[0].token, token.split('.').slice(0, 2).join('.'));
  const created = page.locator('#pat-list tbody tr td time').first();
  assert.equal(await created.getAttribute('datetime'), listed[0].created_at);
  assert.ok((await created.getAttribute('title')).length > 0, 'exact time on hover');
  assert.match(await page.textContent('#pat-list tbody tr'), /just now|ago/);
  await shot(page, 'account-pat');

  // shown once: a reload lists it but no longer shows it
  await account();
  assert.equal(await page.isVisible('#pat-new'), false);
  assert.equal(await page.inputValue('#pat-new'), '');

  // revoke asks first; Cancel keeps it
  await page.click('#pat-list tbody tr button.revoke');
  await page.click('dialog.modal button.secondary');
  assert.equal(await page.locator('#pat-list tbody tr').count(), 1);
  await page.getByRole('button', { name: /^Revoke the token created/ }).click();
  await page.click('dialog.modal button[type=submit]');
  await page.waitForFunction(() => /revoked|invalid|blacklisted/i.test(
    document.querySelector('#pat-status').textContent));
  assert.equal(await page.textContent('#pat-status'), 'Token revoked.');
  await page.waitForSelector('#pat-empty:not([hidden])');
  assert.equal(await page.locator('#pat-list tbody tr').count(), 0);
  assert.equal((await refresh(token)).status, 401);
  assert.equal(await whoami(`Bearer ${r.body.access}`), 401);
});

test('PAT: 403 with PATs off and 409 at 20 show in the status line', async () => {
  await settings();
  await page.uncheck('#api_tokens_enabled');
  assert.match(await saveGroup('token-settings'), /Tokens: saved\./);
  await page.click('#close-settings');
  await account();
  assert.match(await page.textContent('#pat-disabled'), /disabled for this organization/);
  await page.click('#pat-create');
  await page.waitForFunction(() => document.querySelector('#pat-status').textContent);
  assert.match(await page.textContent('#pat-status'),
    /Personal access tokens are disabled for this organization/);
  assert.match(await page.getAttribute('#pat-status', 'class'), /error/);
  assert.equal(await page.isVisible('#pat-new'), false);

  assert.equal((await inPage('/api/jwt/settings', 'POST', { api_tokens_enabled: true })).status, 200);
  for (let i = 0; i < 20; i++) assert.equal((await inPage('/api/token/', 'POST')).status, 201);
  await account();
  assert.equal(await page.locator('#pat-list tbody tr').count(), 20);
  await page.click('#pat-create');
  await page.waitForFunction(() => document.querySelector('#pat-status').textContent);
  assert.match(await page.textContent('#pat-status'), /You have 20 personal access tokens/);
  // a phone: nothing wider than the screen
  await page.setViewportSize({ width: 390, height: 844 });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390),
    'the Account page fits a phone');
  await page.setViewportSize({ width: 1280, height: 800 });
  for (const t of (await inPage('/api/token/')).body) {
    assert.equal((await inPage('/api/token/blacklist/', 'POST', { refresh: t.token })).status, 204);
  }
});

test('legacy tokens off in the settings: Account says so, the token gets 401; then on', async () => {
  await account();
  assert.match(await page.textContent('#legacy-note'), /Legacy tokens are enabled/);
  const { token } = (await inPage('/api/current-user/token')).body;
  assert.equal(await whoami(`Token ${token}`), 200);

  await settings();
  assert.equal(await page.isChecked('#legacy_api_tokens_enabled'), true);
  // from the keyboard: the checkbox takes Space, the form's Save takes Enter
  await page.focus('#legacy_api_tokens_enabled');
  await page.keyboard.press('Space');
  assert.equal(await page.isChecked('#legacy_api_tokens_enabled'), false);
  await page.focus('#token-settings button[type=submit]');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /saved/.test(document.querySelector('#token-settings-status').textContent));
  await shot(page, 'org-settings');

  await account();
  assert.equal(await page.textContent('#legacy-note'),
    'Legacy tokens are disabled for this organization: use a personal access token. '
    + 'Organization settings');
  assert.equal(await whoami(`Token ${token}`), 401);

  // the note's link opens the settings on People
  await Promise.all([page.waitForURL(/\/people\/#org-settings$/), page.click('#legacy-note a')]);
  await page.waitForSelector('#settings-dialog fieldset:not([disabled]) #legacy_api_tokens_enabled');
  await page.check('#legacy_api_tokens_enabled');
  assert.match(await saveGroup('token-settings'), /saved/);
  assert.equal(await whoami(`Token ${token}`), 200);
  await account();
  assert.match(await page.textContent('#legacy-note'), /Legacy tokens are enabled/);
});

test('session policy 30 / 10 minutes, read back; a 400 shows the server\'s message', async () => {
  await settings();
  await page.getByLabel('Session lifetime (minutes)', { exact: true }).fill('30');
  await page.getByLabel('Sign out after inactivity (minutes)', { exact: true }).fill('10');
  assert.match(await saveGroup('session-policy'), /Sessions: saved\./);
  assert.deepEqual((await inPage('/api/session-policy/')).body,
    { max_session_age: 30, max_time_between_activity: 10 });
  await page.click('#close-settings');
  await settings();
  assert.equal(await page.inputValue('#max_session_age'), '30');
  assert.equal(await page.inputValue('#max_time_between_activity'), '10');

  // lifetime 0: the server's message at the field, focus on it, nothing saved
  const before = (await inPage('/api/jwt/settings')).body;
  await page.getByLabel('Personal access token lifetime (days)', { exact: true }).fill('0');
  assert.match(await saveGroup('token-settings'), /Not saved/);
  const expected = (await inPage('/api/jwt/settings', 'POST', { ...before, api_token_ttl_days: 0 }))
    .body.validation_errors.api_token_ttl_days[0];
  assert.equal(await page.textContent('#api_token_ttl_days-error'), expected);
  assert.equal(await page.getAttribute('#api_token_ttl_days', 'aria-invalid'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'api_token_ttl_days');
  assert.deepEqual((await inPage('/api/jwt/settings')).body, before);
  // fixed, it saves and the message goes
  await page.fill('#api_token_ttl_days', '30');
  assert.match(await saveGroup('token-settings'), /saved/);
  assert.equal(await page.textContent('#api_token_ttl_days-error'), '');
  assert.equal((await inPage('/api/jwt/settings')).body.api_token_ttl_days, 30);
  // 0 minutes: the message at its field too
  await page.fill('#max_time_between_activity', '0');
  assert.match(await saveGroup('session-policy'), /Not saved/);
  assert.match(await page.textContent('#max_time_between_activity-error'),
    /max_time_between_activity must be a whole number of minutes/);
  assert.equal((await inPage('/api/session-policy/')).body.max_time_between_activity, 10);
});

test('the session policy\'s 400 message names its real upper bound', async () => {
  await settings();
  await page.fill('#max_session_age', '0');
  await saveGroup('session-policy');
  // MINUTES_MAX is ten years of minutes; no printf conversion left unexpanded
  assert.match(await page.textContent('#max_session_age-error'), /from 1 to 5256000\.$/);
});

test('accessible: labels, names, live status lines; a phone width fits', async () => {
  const check = () => page.evaluate(() => {
    const bad = [];
    const scope = document.querySelector('dialog[open]') || document.querySelector('#app');
    for (const i of scope.querySelectorAll('input, select')) {
      if (!i.labels.length && !i.getAttribute('aria-label')) bad.push(`input ${i.id}`);
    }
    for (const b of scope.querySelectorAll('button')) {
      if (!(b.getAttribute('aria-label') || b.textContent).trim()) bad.push(`button ${b.outerHTML}`);
    }
    for (const s of scope.querySelectorAll('.status-line')) {
      if (s.getAttribute('role') !== 'status' || s.getAttribute('aria-live') !== 'polite') {
        bad.push(`status ${s.id}`);
      }
    }
    return bad;
  });
  await account();
  await page.click('#pat-create');
  await page.waitForSelector('#pat-list tbody tr');
  assert.deepEqual(await check(), []);
  await settings();
  assert.deepEqual(await check(), []);
  assert.equal(await page.locator('#settings-dialog .status-line').count(), 2);
  await page.setViewportSize({ width: 390, height: 844 });
  const fits = await page.evaluate(() => {
    const d = document.querySelector('#settings-dialog').getBoundingClientRect();
    return d.left >= 0 && d.right <= 390 && document.documentElement.scrollWidth <= 390;
  });
  assert.ok(fits, 'the settings dialog fits a phone');
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => !document.querySelector('#settings-dialog'));
  assert.equal(await page.evaluate(() => document.activeElement.id), 'org-settings');
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390),
    'People fits a phone');
  await page.setViewportSize({ width: 1280, height: 800 });
  await shot(page, 'people-head');
  assert.deepEqual(dialogs, []);
});
