// Drives Debian's Chromium through the admin console at /admin on the real
// binary: an admin signs in by pasting a Qortal key (the page signs with
// WebCrypto Ed25519), links an address to an existing Nextcloud account,
// starts an onboarding campaign for a Nextcloud group and watches the
// background worker invite its members. Every page must run under its CSP
// without a violation. A second browser with JavaScript off signs in by
// pasting a signature made elsewhere and uses the forms: the console needs
// no script beyond the optional in-browser signing. With
// INTEROP_SCREENSHOTS=DIR, screenshots of the main pages go to DIR (the
// README's come from INTEROP_SCREENSHOTS=docs/screenshots).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { startBroker } from './lib/harness.mjs';
import { launchContext, launchBrowser, openPage as newPage } from './lib/chromium.mjs';
import { repoRoot, loadAccounts, base58Encode, publicKeyOf, signMessage } from './lib/qortal.mjs';

const shotDir = process.env.INTEROP_SCREENSHOTS ? path.resolve(repoRoot, 'interop', process.env.INTEROP_SCREENSHOTS) : '';

let b, browser;

/** Calls the fake Nextcloud's OCS API as its admin, to seed accounts. */
async function ocs(method, route, form) {
  const res = await fetch(`${b.nextcloud.url}/ocs/v2.php/${route}?format=json`, {
    method,
    headers: {
      authorization: 'Basic ' + Buffer.from(`${b.nextcloud.user}:${b.nextcloud.appPassword}`).toString('base64'),
      'OCS-APIRequest': 'true',
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(form).toString(),
  });
  const body = await res.json();
  assert.equal(body.ocs.meta.statuscode, 200, `${method} ${route}: ${JSON.stringify(body.ocs.meta)}`);
}

before(async () => {
  const accounts = loadAccounts();
  b = await startBroker({ adminAddresses: [accounts.alice.address] });
  await ocs('POST', 'cloud/groups', { groupid: 'staff' });
  for (const [id, name] of [['carol', 'Carol Example'], ['dave', 'Dave Example']]) {
    await ocs('POST', 'cloud/users', {
      userid: id, password: 'Correct-Horse-Battery-9', displayName: name, email: `${id}@example.org`, 'groups[]': 'staff',
    });
  }
  browser = await launchContext({ viewport: { width: 1280, height: 800 } });
});

after(async () => {
  await browser?.close();
  await b?.stop();
});

const openPage = () => newPage(browser.context);

async function shot(page, name) {
  if (!shotDir) return;
  mkdirSync(shotDir, { recursive: true });
  await page.screenshot({ path: path.join(shotDir, `${name}.png`) });
}

async function api(method, route) {
  const res = await fetch(`${b.issuer}${route}`, { method, headers: { authorization: `Bearer ${b.adminToken}` } });
  return { status: res.status, body: await res.json() };
}

test('Chromium: admin signs in with a key, links an address, runs a campaign and sees its status', async () => {
  const { alice, bob } = b.accounts;
  const { page, problems } = await openPage();

  // Signed out, /admin leads to the sign-in page.
  await page.goto(`${b.issuer}/admin`);
  assert.equal(new URL(page.url()).pathname, '/admin/signin');
  await page.fill('#address', alice.address);
  await Promise.all([page.waitForLoadState('load'), page.click('#address-submit')]);
  await page.waitForSelector('#in-browser:not([hidden])');
  assert.match(await page.locator('#message').innerText(), /Sign in to the qortal-oidc admin console/);
  await page.fill('#private-key', alice.privateKey58);
  await page.waitForFunction((pub) => document.getElementById('derived-pub').textContent === pub, alice.publicKey58);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/admin/'),
    page.click('#key-sign'),
  ]);
  assert.equal(await page.locator('h1').innerText(), 'Dashboard');
  assert.equal(await page.locator('#signed-in-as').getAttribute('title'), `Signed in as ${alice.address}`);

  // Link bob's address to the existing Nextcloud account carol.
  await page.click('nav >> text=Mappings');
  await page.fill('#link-address', bob.address);
  await page.fill('#link-user', 'carol');
  await Promise.all([page.waitForURL((u) => u.pathname === '/admin/mappings'), page.click('#link-submit')]);
  assert.match(await page.locator('#flash').innerText(), new RegExp(`Linked ${bob.address} to Nextcloud user carol`));
  const linked = await api('GET', `/api/provision/mapping/${bob.address}`);
  assert.equal(linked.status, 200);
  assert.equal(linked.body.nextcloudUserId, 'carol');
  // A failing action shows the service's precise message.
  await page.fill('#link-address', alice.address);
  await page.fill('#link-user', 'dave');
  await Promise.all([page.waitForLoadState('load'), page.click('#link-submit')]);
  assert.match(await page.locator('#error').innerText(), /already linked to Nextcloud user "alice"/);
  await page.goto(`${b.issuer}/admin/mappings`);
  await shot(page, 'admin-mappings');

  // Start a campaign for the group staff (carol is linked now, dave is not).
  await page.click('nav >> text=Onboarding');
  await page.check('#target-group');
  await page.fill('#group', 'staff');
  assert.ok(await page.isChecked('#ch-notification'));
  await Promise.all([page.waitForURL((u) => u.pathname.startsWith('/admin/campaigns/cmp_')), page.click('#campaign-submit')]);
  assert.match(await page.locator('#flash').innerText(), /Started campaign cmp_\S+ for 2 users/);
  const campaignURL = page.url();

  // The broker's worker delivers in the background; reloading shows it.
  const deadline = Date.now() + 60000;
  for (;;) {
    const invited = Number(await page.locator('#progress dd[data-state="invited"]').innerText());
    const linkedN = Number(await page.locator('#progress dd[data-state="linked"]').innerText());
    if (invited === 1 && linkedN === 1) break;
    assert.ok(Date.now() < deadline, `campaign not delivered in time: invited ${invited}, linked ${linkedN}`);
    await new Promise((r) => setTimeout(r, 500));
    await page.goto(campaignURL);
  }
  assert.match(await page.locator('tr[data-user="dave"]').innerText(), /invited/);
  assert.match(await page.locator('tr[data-user="carol"]').innerText(), /already linked/);
  await shot(page, 'admin-campaign');

  await page.click('nav >> text=Audit log');
  const audit = await page.locator('table.audit').innerText();
  for (const action of ['admin.signin', 'mapping.create', 'campaign.create']) assert.match(audit, new RegExp(action));
  assert.match(audit, new RegExp(`admin:${alice.address}`));
  await shot(page, 'admin-audit');

  await page.click('nav >> text=Dashboard');
  assert.equal(await page.locator('#counts dd[data-state="linked"]').innerText(), '2');
  await shot(page, 'admin-dashboard');

  // Sign out ends the session: the console is closed again.
  await Promise.all([page.waitForURL((u) => u.pathname === '/admin/signin'), page.click('#signout')]);
  await page.goto(`${b.issuer}/admin/mappings`);
  assert.equal(new URL(page.url()).pathname, '/admin/signin');
  assert.deepEqual(problems, [], 'console errors or CSP violations in the admin console');
  await page.close();
});

test('Chromium: a non-admin key is refused after signing', async () => {
  const { bob } = b.accounts;
  const { page, problems } = await openPage();
  await page.goto(`${b.issuer}/admin/signin`);
  await page.fill('#address', bob.address);
  await Promise.all([page.waitForLoadState('load'), page.click('#address-submit')]);
  await page.waitForSelector('#in-browser:not([hidden])');
  await page.fill('#private-key', bob.privateKey58);
  await Promise.all([page.waitForLoadState('load'), page.click('#key-sign')]);
  await page.waitForSelector('#error');
  assert.match(await page.locator('#error').innerText(), new RegExp(`${bob.address} is not an administrator`));
  await page.goto(`${b.issuer}/admin/`);
  assert.equal(new URL(page.url()).pathname, '/admin/signin');
  assert.deepEqual(problems, []);
  await page.close();
});

test('Chromium without JavaScript: sign in by pasting a signature made elsewhere, and use the forms', async () => {
  const { alice, chloe } = b.accounts;
  const plain = await launchBrowser();
  try {
    const ctx = await plain.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    await page.goto(`${b.issuer}/admin/signin`);
    await page.fill('#address', alice.address);
    await Promise.all([page.waitForLoadState('load'), page.click('#address-submit')]);
    assert.equal(await page.isHidden('#in-browser'), true, 'the in-browser signing panel needs JavaScript');
    // Sign the exact text the page shows, as `qortal-oidc sign` would.
    const message = await page.locator('#message').innerText();
    const proof = { address: alice.address, publicKey: base58Encode(publicKeyOf(alice.seed)), signature: signMessage(alice.seed, message) };
    await page.fill('#proof', JSON.stringify(proof));
    await Promise.all([page.waitForURL((u) => u.pathname === '/admin/'), page.click('#verify-submit')]);
    assert.equal(await page.locator('h1').innerText(), 'Dashboard');

    await page.goto(`${b.issuer}/admin/allowlist`);
    await page.fill('#allow-address', chloe.address);
    await page.fill('#allow-note', 'added without JavaScript');
    await Promise.all([page.waitForURL((u) => u.pathname === '/admin/allowlist'), page.click('#allow-submit')]);
    assert.match(await page.locator('#flash').innerText(), new RegExp(`Added ${chloe.address} to the allowlist`));
    await ctx.close();
  } finally {
    await plain.close();
  }
});
