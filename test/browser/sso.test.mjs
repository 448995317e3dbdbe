// Single sign-on in the browser: the login page links to the <Location> that
// mod_auth_basic protects (SialiTrustRemoteUser On), the browser's
// credentials sign the member in, and the page it lands on is People. The
// login page with its link also goes through axe-core (shot).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, chmodSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, launch, shot, signupIn } from './harness.mjs';

const MODULES = '/usr/lib/apache2/modules';
let srv, browser, dir;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'siali-sso-'));
  chmodSync(dir, 0o755);
  const users = join(dir, 'htpasswd');
  execFileSync('htpasswd', ['-cbB', '-C', '4', users, 'owner@example.org', 'pw-basic'],
    { stdio: 'pipe' });
  chmodSync(users, 0o644);
  const conf = join(dir, 'sso.conf');
  writeFileSync(conf, ['authn_core', 'authn_file', 'auth_basic', 'authz_user'].map((m) =>
    `<IfModule !${m}_module>\n  LoadModule ${m}_module ${MODULES}/mod_${m}.so\n</IfModule>\n`)
    .join('') + `<Location "/sso/basic/">
  AuthType Basic
  AuthName "Siali"
  AuthBasicProvider file
  AuthUserFile "${users}"
  Require valid-user
  SialiTrustRemoteUser On
</Location>
`);
  chmodSync(conf, 0o644);
  srv = await startServer({ directives: [`Include ${conf}`] });
  browser = await launch();
  const first = await (await browser.newContext()).newPage();
  await signupIn(first, srv.url, 'owner@example.org');
  await first.context().close();
});

after(async () => {
  await browser?.close();
  await srv?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the login page links to single sign-on, which signs the member in', async () => {
  const ctx = await browser.newContext({
    httpCredentials: { username: 'owner@example.org', password: 'pw-basic' },
  });
  const page = await ctx.newPage();
  await page.goto(`${srv.url}/user/login/?next=/user/account/`);
  const link = page.getByRole('link', { name: 'Log in with single sign-on' });
  assert.equal(await link.getAttribute('href'), '/sso/basic/?next=%2fuser%2faccount%2f');
  await shot(page, 'sso-login');
  await Promise.all([page.waitForURL(`${srv.url}/user/account/`), link.click()]);
  const me = await page.evaluate(async () =>
    (await fetch('/api/current-user/whoami')).json());
  assert.equal(me.email, 'owner@example.org');
  await ctx.close();
});
