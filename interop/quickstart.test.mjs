// Follows the README's quick start exactly: the broker on configs/dev.yaml
// (no Nextcloud, demo on), `qortal-oidc keygen --out my.key`, then in
// Chromium: /demo, "Sign in with Qortal", the address, the pasted key, and
// the verified claims with sub = the address. Then single sign-on and
// sign-out through end_session.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDevBroker } from './lib/harness.mjs';
import { repoRoot } from './lib/qortal.mjs';
import { launchContext, openPage } from './lib/chromium.mjs';

// SCREENSHOTS=1 writes the README's screenshots into docs/screenshots.
const shots = process.env.SCREENSHOTS ? path.join(repoRoot, 'docs', 'screenshots') : null;

let b, browser, work;

before(async () => {
  b = await startDevBroker();
  browser = await launchContext({ viewport: { width: 1100, height: 900 } });
  work = mkdtempSync(path.join(tmpdir(), 'qortal-oidc-quickstart-'));
});

after(async () => {
  await browser?.close();
  await b?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('quick start: keygen, sign in at /demo in Chromium, see the claims', async () => {
  // qortal-oidc keygen --out my.key: the last line is the address.
  const out = execFileSync(path.join(b.binDir, 'qortal-oidc'), ['keygen', '--out', 'my.key'], { cwd: work, encoding: 'utf8' });
  const address = out.trim().split('\n').pop();
  assert.match(address, /^Q[1-9A-HJ-NP-Za-km-z]{33}$/);
  const key = readFileSync(path.join(work, 'my.key'), 'utf8').trim();

  const { page, problems } = await openPage(browser.context);
  await page.goto(`${b.issuer}/`);
  await page.click('#link-demo');
  await page.waitForURL((u) => u.pathname === '/demo');
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/authorize'), // the login page, in /authorize's own answer
    page.click('#demo-signin'),
  ]);
  await page.fill('#address', address);
  await page.click('#address-submit');
  await page.waitForSelector('#step-sign:not([hidden])');
  await page.fill('#private-key', key);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/demo'),
    page.click('#key-sign'),
  ]);
  const claims = JSON.parse(await page.locator('pre#claims').innerText());
  assert.equal(claims.sub, address, 'standalone: sub is the Qortal address');
  assert.equal(claims.qortal_address, address);
  assert.equal(claims.iss, b.issuer);
  assert.ok([].concat(claims.aud).includes('qortal-oidc-demo'), `aud ${claims.aud}`);
  const userinfo = JSON.parse(await page.locator('pre#userinfo').innerText());
  assert.equal(userinfo.sub, address);
  if (shots) await page.screenshot({ path: path.join(shots, 'demo.png'), fullPage: true });

  assert.deepEqual(problems, [], 'console errors or CSP violations');
  await page.close();
});

test('quick start: a second sign-in is single sign-on; sign-out ends it', async () => {
  await browser.context.clearCookies();
  const out = execFileSync(path.join(b.binDir, 'qortal-oidc'), ['keygen', '--out', 'second.key'], { cwd: work, encoding: 'utf8' });
  const address = out.trim().split('\n').pop();
  const key = readFileSync(path.join(work, 'second.key'), 'utf8').trim();
  const { page, problems } = await openPage(browser.context);
  await page.goto(`${b.issuer}/demo`);
  await Promise.all([page.waitForURL((u) => u.pathname === '/authorize'), page.click('#demo-signin')]);
  await page.fill('#address', address);
  await page.click('#address-submit');
  await page.waitForSelector('#step-sign:not([hidden])');
  await page.fill('#private-key', key);
  await Promise.all([page.waitForURL((u) => u.pathname === '/demo'), page.click('#key-sign')]);

  // Sign out of the demo only (its own cookie), then sign in again: the
  // broker session answers without the signing page.
  await browser.context.clearCookies({ name: 'qortal_oidc_demo' });
  await page.goto(`${b.issuer}/demo`);
  await page.click('#demo-signin');
  await page.waitForSelector('pre#claims');
  assert.equal(JSON.parse(await page.locator('pre#claims').innerText()).sub, address);

  // Sign out: through end_session back to /demo; the next sign-in signs again.
  await Promise.all([page.waitForURL((u) => u.pathname === '/demo' && u.searchParams.get('state') === 'signed_out'), page.click('#demo-signout')]);
  assert.match(await page.locator('#demo-notice').innerText(), /signed out/);
  await Promise.all([page.waitForURL((u) => u.pathname === '/authorize'), page.click('#demo-signin')]);
  assert.ok(await page.locator('#address').isVisible());
  assert.deepEqual(problems, [], 'console errors or CSP violations');
  await page.close();
});
