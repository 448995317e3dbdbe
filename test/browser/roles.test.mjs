// Roles (SialiRoles On) in the pages: an administrator sees the role column,
// the filter and the role selector; an annotator sees no control their role
// may not use. Every view also goes through axe-core (shot).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, shot, signupIn } from './harness.mjs';

let srv, browser, owner, annotator;

before(async () => {
  srv = await startServer({ directives: ['SialiRoles On'] });
  browser = await launch();
  owner = await (await browser.newContext()).newPage();
  await signupIn(owner, srv.url, 'owner@example.org');
  annotator = await (await browser.newContext()).newPage();
  await signupIn(annotator, srv.url, 'ann@example.org');
  const third = await (await browser.newContext()).newPage();
  await signupIn(third, srv.url, 'cy@example.org');
  await third.context().close();
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

function rowOf(page, email) {
  return page.locator('table.people tbody tr', { hasText: email });
}

test('administrator: role column, owner marked, role filter, role selector', async () => {
  await owner.goto(`${srv.url}/people/`);
  await owner.waitForSelector('table.people tbody tr');
  assert.equal(await owner.locator('table.people tbody tr').count(), 3);
  assert.equal((await rowOf(owner, 'owner@example.org').locator('td.role').textContent()).trim(),
    'Owner');
  assert.equal((await rowOf(owner, 'ann@example.org').locator('td.role').textContent()).trim(),
    'Annotator');
  assert.ok(await owner.isVisible('#add-people'));
  assert.ok(await owner.isVisible('#org-settings'));
  await owner.selectOption('#role-filter', 'AN');
  await owner.waitForFunction(() => document.querySelectorAll('table.people tbody tr').length === 2);
  await owner.selectOption('#role-filter', '');
  await owner.waitForFunction(() => document.querySelectorAll('table.people tbody tr').length === 3);
  await shot(owner, 'roles-people-admin');
  // the owner's own panel has no selector; the annotator's has one
  await rowOf(owner, 'owner@example.org').click();
  await owner.waitForSelector('#detail-role');
  assert.equal(await owner.locator('#role-select').count(), 0);
  await rowOf(owner, 'cy@example.org').click();
  await owner.waitForSelector('#role-select');
  assert.deepEqual(await owner.locator('#role-select option').evaluateAll(
    (os) => os.map((o) => o.value)), ['AD', 'MA', 'RE', 'AN', 'OW']);
  await owner.selectOption('#role-select', 'RE');
  await owner.waitForFunction(() => document.querySelector('#detail-role')?.textContent === 'Reviewer');
  assert.equal((await rowOf(owner, 'cy@example.org').locator('td.role').textContent()).trim(),
    'Reviewer');
  await shot(owner, 'roles-detail-admin');
  // transferring the ownership asks first; Cancel keeps the role
  await owner.selectOption('#role-select', 'OW');
  await owner.waitForSelector('dialog.modal');
  await shot(owner, 'roles-transfer-dialog');
  await owner.click('dialog.modal button.secondary');
  await owner.waitForFunction(() => document.querySelector('#role-select').value === 'RE');
});

test('annotator: only what the role allows is shown', async () => {
  await annotator.goto(`${srv.url}/people/`);
  await annotator.waitForSelector('table.people tbody tr');
  // no shared project: only themselves
  assert.equal(await annotator.locator('table.people tbody tr').count(), 1);
  assert.equal(await annotator.locator('#add-people').count(), 0);
  assert.equal(await annotator.locator('#org-settings').count(), 0);
  await rowOf(annotator, 'ann@example.org').click();
  await annotator.waitForSelector('#detail-role');
  assert.equal(await annotator.locator('#role-select').count(), 0);
  assert.equal(await annotator.locator('#toggle-active').count(), 0);
  assert.equal(await annotator.locator('#delete-member').count(), 0);
  await shot(annotator, 'roles-people-annotator');
  // the server refuses what the page does not offer
  const status = await annotator.evaluate(async () => (await fetch('/api/invite')).status);
  assert.equal(status, 403);
  await annotator.goto(`${srv.url}/user/account/`);
  await annotator.waitForSelector('#legacy-note');
  assert.match(await annotator.textContent('#legacy-note'), /An administrator can change this/);
  await shot(annotator, 'roles-account-annotator');
});
