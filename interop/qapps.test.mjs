// The Q-Apps gateway end to end in Chromium: a Nextcloud-like page frames
// the gateway (as the External sites app does), the user signs in once in a
// popup through the broker's real login page, opens an approved app from
// the fake Qortal node, and the app's qortalRequest calls get real answers
// or the documented refusals. Also: app script cannot read broker cookies or
// reach the console, and a republished app keeps serving the pinned version
// until an admin re-pins it. QAPPS_SCREENSHOTS=dir writes the screenshots
// the README uses.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPublicKey, verify } from 'node:crypto';
import { startBroker, startFakeNode } from './lib/harness.mjs';
import { base58Encode, base58Decode } from './lib/qortal.mjs';
import { launchContext, openPage } from './lib/chromium.mjs';

const shots = process.env.QAPPS_SCREENSHOTS;
let b, node, nc, browser, dir, gw, apps;

async function freePort() {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  srv.close();
  await once(srv, 'close');
  return port;
}

async function api(method, p, body) {
  const res = await fetch(`${b.issuer}${p}`, {
    method,
    headers: { authorization: `Bearer ${b.adminToken}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'qortal-oidc-qapps-'));
  const { loadAccounts } = await import('./lib/qortal.mjs');
  const alice = loadAccounts().alice;
  const keyFile = path.join(dir, 'apikey.txt');
  node = await startFakeNode(['--api-key-file', keyFile, '--name', `Alice=${alice.address}=${alice.publicKey58}`]);
  // The Nextcloud stand-in: a page on its own origin that frames an app's
  // launch URL, as External sites does.
  nc = createServer((req, res) => {
    const u = new URL(req.url, 'http://localhost');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!DOCTYPE html><html><head><title>Nextcloud</title><style>body{margin:0;font-family:sans-serif}
header{background:#0082c9;color:#fff;padding:.6rem 1rem;font-weight:600}iframe{border:0;width:100%;height:calc(100vh - 42px)}</style></head>
<body><header>Nextcloud · External sites</header><iframe id="nc-app" src="${gw}/app/${encodeURIComponent(u.searchParams.get('app') || '')}/"></iframe></body></html>`);
  });
  nc.listen(0, '127.0.0.1');
  await once(nc, 'listening');
  const ncOrigin = `http://localhost:${nc.address().port}`;
  const gwPort = await freePort();
  gw = `http://localhost:${gwPort}`;
  b = await startBroker({
    adminAddresses: [alice.address],
    extraConfig: [
      `qortal: {node_url: ${JSON.stringify(node.url)}, api_key_file: ${JSON.stringify(keyFile)}}`,
      `qapps: {origin: ${JSON.stringify(gw)}, listen: ${JSON.stringify(`127.0.0.1:${gwPort}`)}, nextcloud_origin: ${JSON.stringify(ncOrigin)}}`,
    ].join('\n'),
  });
  const fixture = await api('POST', '/api/qapps', { service: 'APP', name: 'Fixture', title: 'Fixture <app>' });
  const staff = await api('POST', '/api/qapps', { service: 'APP', name: 'Staff-Tools', title: 'Staff tools', groups: ['staff'] });
  apps = { fixture, staff, ncOrigin };
  browser = await launchContext({ viewport: { width: 1100, height: 760 } });
});

after(async () => {
  await browser?.close();
  await b?.stop();
  await node?.stop();
  nc?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const appFrame = (page) => page.frames().find((f) => f.url().startsWith(`${gw}/render/`));
const launcherFrame = (page) => page.frames().find((f) => f.url().startsWith(`${gw}/app/`));

async function waitFor(fn, what, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let page, problems;

test('Chromium: from Nextcloud, sign in once and open an approved app with real qortalRequest answers', async () => {
  const alice = b.accounts.alice;
  ({ page, problems } = await openPage(browser.context));
  await page.goto(`${apps.ncOrigin}/?app=${apps.fixture.id}`);
  const framed = page.frameLocator('#nc-app');
  await framed.locator('#signin').waitFor();
  const [popup] = await Promise.all([page.waitForEvent('popup'), framed.locator('#signin').click()]);
  await popup.waitForSelector('#address');
  await popup.fill('#address', alice.address);
  await popup.click('#address-submit');
  await popup.waitForSelector('#step-sign:not([hidden])');
  await popup.fill('#private-key', alice.privateKey58);
  await popup.click('#key-sign');
  // The popup ends on the gateway's "Signed in" page and closes itself.
  if (!popup.isClosed()) await popup.waitForEvent('close');

  // The framed page reloads into the launcher; the app asks for the account.
  const launcher = await waitFor(() => launcherFrame(page), 'the launcher');
  await launcher.waitForSelector('#dialog:not([hidden])');
  assert.match(await launcher.locator('#dialog-title').innerText(), /Fixture <app> wants your Qortal account/);
  if (shots) await page.screenshot({ path: path.join(shots, 'qapps-consent.png') });
  await launcher.click('#dialog-yes');
  const app = await waitFor(() => appFrame(page), 'the app frame');
  await app.waitForFunction((addr) => document.getElementById('account').textContent === addr, alice.address);
  await app.waitForFunction(() => document.getElementById('name').textContent.startsWith('Alice owned by'));
  assert.equal(await app.locator('#name').innerText(), `Alice owned by ${alice.address}`);
  assert.equal(await app.locator('#context').innerText(), 'APP Fixture');
  // Relative CSS and image under the rewritten base href, and client-side routing.
  assert.equal(await app.evaluate(() => getComputedStyle(document.querySelector('code')).borderRadius), '3px');
  assert.ok(await app.evaluate(() => document.getElementById('logo').naturalWidth === 8));
  await app.click('#nav-about');
  assert.equal(await app.locator('#route').innerText(), '/about');
  if (shots) await page.screenshot({ path: path.join(shots, 'qapps-launcher.png') });

  // The second open of the app needs no sign-in and no new consent.
  await page.reload();
  const again = await waitFor(() => appFrame(page), 'the app frame again');
  await again.waitForFunction((addr) => document.getElementById('account').textContent === addr, alice.address);
  assert.equal(await launcherFrame(page).locator('#dialog').isHidden(), true);

  // Signed out of the gateway but still signed in to the broker (as after a
  // Nextcloud login): the sign-in popup completes with no signature.
  await page.context().clearCookies({ name: 'qapps_session' });
  await page.reload();
  await framed.locator('#signin').waitFor();
  const [sso] = await Promise.all([page.waitForEvent('popup'), framed.locator('#signin').click()]);
  // Nobody types or signs in this popup: it closes only if the broker
  // answered from its session (it may be gone before we look).
  if (!sso.isClosed()) await sso.waitForEvent('close');
  const third = await waitFor(() => appFrame(page), 'the app frame after single sign-on');
  await third.waitForFunction((addr) => document.getElementById('account').textContent === addr, alice.address);
  assert.deepEqual(problems.filter((p) => !/favicon/.test(p)), [], 'console errors or CSP violations');
});

test('Chromium: refusals are the documented ones', async () => {
  const app = appFrame(page);
  const code = (req) => app.evaluate((r) => qortalRequest(r).then(() => 'answered', (e) => e.code), req);
  assert.equal(await code({ action: 'FETCH_BLOCK', height: 1 }), 'unknown_action');
  assert.equal(await code({ action: 'SEND_COIN', coin: 'QORT', recipient: b.accounts.bob.address, amount: 1 }), 'action_not_allowed');
  assert.equal(await code({ action: 'SIGN_TRANSACTION', unsignedBytes: '1111' }), 'action_not_allowed');
  assert.equal(await app.evaluate((a) => qortalRequest({ action: 'GET_BALANCE', address: a }), b.accounts.alice.address), 12.5);
  // A node path outside the allowlist, and one inside it, fetched by the app itself.
  const status = (p) => app.evaluate((suffix) => fetch(location.pathname.split('/').slice(0, 4).join('/').replace('/render/', '/node/') + suffix).then((r) => r.status), p);
  assert.equal(await status('/peers'), 403);
  assert.equal(await status('/admin/stop'), 403);
  assert.equal(await app.evaluate(() => fetch('/names/Alice').then((r) => r.json()).then((j) => j.name)), 'Alice');

  await page.goto(`${apps.ncOrigin}/?app=not-approved`);
  await page.frameLocator('#nc-app').locator('h1', { hasText: 'App not found' }).waitFor();
  await page.goto(`${apps.ncOrigin}/?app=${apps.staff.id}`);
  await page.frameLocator('#nc-app').locator('h1', { hasText: 'Not allowed' }).waitFor();
  const res = await page.context().request.get(`${gw}/app/${apps.staff.id}/`);
  assert.equal(res.status(), 403);
});

test('Chromium: an allowed SIGN_TRANSACTION is shown, signed in the launcher and verified', async () => {
  await api('PUT', `/api/qapps/${apps.fixture.id}`, { actions: ['SIGN_TRANSACTION'] });
  await page.goto(`${apps.ncOrigin}/?app=${apps.fixture.id}`);
  const app = await waitFor(() => appFrame(page), 'the app frame');
  await app.waitForFunction(() => document.getElementById('account').textContent.startsWith('Q'));
  const unsigned = Buffer.alloc(100);
  unsigned.writeInt32BE(17, 0); // a MESSAGE transaction
  const unsigned58 = base58Encode(unsigned);
  const pending = app.evaluate((u) => qortalRequest({ action: 'SIGN_TRANSACTION', unsignedBytes: u, process: false }).then((r) => ({ r }), (e) => ({ e })), unsigned58);
  const launcher = launcherFrame(page);
  await launcher.waitForSelector('#dialog:not([hidden])');
  assert.match(await launcher.locator('#dialog-title').innerText(), /asks you to sign a transaction/);
  assert.match(await launcher.locator('#dialog-tx').innerText(), /"type": "MESSAGE"/);
  await launcher.fill('#key', b.accounts.bob.privateKey58);
  await launcher.click('#dialog-yes');
  // The gateway refuses a key that is not the signed-in account's.
  const refused = await pending;
  assert.equal(refused.e && refused.e.code, 'wrong_key');
  const again = app.evaluate((u) => qortalRequest({ action: 'SIGN_TRANSACTION', unsignedBytes: u, process: false }), unsigned58);
  await launcher.waitForSelector('#dialog:not([hidden])');
  await launcher.fill('#key', b.accounts.alice.privateKey58);
  await launcher.click('#dialog-yes');
  const signed = base58Decode(await again);
  assert.deepEqual(signed.subarray(0, 100), unsigned);
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), base58Decode(b.accounts.alice.publicKey58)]);
  assert.ok(verify(null, unsigned, createPublicKey({ key: spki, format: 'der', type: 'spki' }), signed.subarray(100)), 'the signature is alice\'s over the bytes');
  await api('PUT', `/api/qapps/${apps.fixture.id}`, { actions: [] });
});

test('Chromium: an allowed SEND_COIN is built by the gateway, signed in the launcher and broadcast', async () => {
  await api('PUT', `/api/qapps/${apps.fixture.id}`, { actions: ['SEND_COIN'] });
  await page.goto(`${apps.ncOrigin}/?app=${apps.fixture.id}`);
  const app = await waitFor(() => appFrame(page), 'the app frame');
  await app.waitForFunction(() => document.getElementById('account').textContent.startsWith('Q'));
  const bob = b.accounts.bob.address;
  const balance = (a) => fetch(`${node.url}/addresses/balance/${a}`).then((r) => r.text());
  const before = Number(await balance(bob));
  const code = (req) => app.evaluate((r) => qortalRequest(r).then(() => 'answered', (e) => e.code), req);
  assert.equal(await code({ action: 'SEND_COIN', coin: 'BTC', recipient: bob, amount: 1 }), 'unsupported_coin');
  assert.equal(await code({ action: 'SEND_COIN', coin: 'QORT', recipient: bob }), 'invalid_request');
  assert.equal(await code({ action: 'JOIN_GROUP', groupId: 1 }), 'action_not_allowed');
  const pending = app.evaluate((to) => qortalRequest({ action: 'SEND_COIN', coin: 'QORT', recipient: to, amount: 1.25 }).then((r) => ({ r }), (e) => ({ e })), bob);
  const launcher = launcherFrame(page);
  await launcher.waitForSelector('#dialog:not([hidden])');
  assert.match(await launcher.locator('#dialog-title').innerText(), /asks you to send QORT/);
  const shown = await launcher.locator('#dialog-tx').innerText();
  assert.match(shown, /"type": "PAYMENT"/);
  assert.match(shown, /"amount": "1\.25000000"/);
  assert.ok(shown.includes(`"recipient": "${bob}"`), 'the decoded recipient is shown');
  assert.ok(shown.includes(`"creatorAddress": "${b.accounts.alice.address}"`), 'the signed-in account pays');
  assert.equal(Number(await balance(bob)), before, 'nothing is broadcast before the user signs');
  if (shots) await page.screenshot({ path: path.join(shots, 'qapps-send-coin.png') });
  await launcher.fill('#key', b.accounts.alice.privateKey58);
  await launcher.click('#dialog-yes');
  const got = await pending;
  assert.ok(got.r, `SEND_COIN answered ${JSON.stringify(got.e)}`);
  assert.equal(got.r.type, 'PAYMENT');
  assert.equal(got.r.recipient, bob);
  assert.match(got.r.signature, /^[1-9A-HJ-NP-Za-km-z]{80,90}$/);
  assert.equal(Number(await balance(bob)), before + 1.25);
  // Declined in the launcher: the app is told so and nothing moves.
  const declined = app.evaluate((to) => qortalRequest({ action: 'SEND_COIN', coin: 'QORT', recipient: to, amount: 2 }).then(() => 'sent', (e) => e.code), bob);
  await launcher.waitForSelector('#dialog:not([hidden])');
  await launcher.click('#dialog-no');
  assert.equal(await declined, 'user_declined');
  assert.equal(Number(await balance(bob)), before + 1.25);

  // An account with no transaction yet: the node does not know its public key, so the
  // launcher asks for the key first (the gateway builds with the public key derived from
  // it, checked against the session's address) and signs with it without asking again.
  const alice = b.accounts.alice.address;
  await fetch(`${node.url}/_fake/account`, { method: 'POST', body: JSON.stringify({ address: alice, balance: await balance(alice) }) });
  const fresh = app.evaluate((to) => qortalRequest({ action: 'SEND_COIN', coin: 'QORT', recipient: to, amount: 0.5 }).then((r) => ({ r }), (e) => ({ e })), bob);
  await launcher.waitForSelector('#dialog:not([hidden])');
  assert.match(await launcher.locator('#dialog-text').innerText(), /no transaction on chain yet/);
  await launcher.fill('#key', b.accounts.bob.privateKey58);
  await launcher.click('#dialog-yes');
  assert.equal((await fresh).e && (await fresh).e.code, 'wrong_key', 'another account\'s key is refused');
  const fresh2 = app.evaluate((to) => qortalRequest({ action: 'SEND_COIN', coin: 'QORT', recipient: to, amount: 0.5 }).then((r) => ({ r }), (e) => ({ e })), bob);
  await launcher.waitForSelector('#dialog:not([hidden])');
  await launcher.fill('#key', b.accounts.alice.privateKey58);
  await launcher.click('#dialog-yes');
  await launcher.locator('#dialog-tx', { hasText: '"type": "PAYMENT"' }).waitFor();
  assert.equal(await launcher.locator('#key').inputValue(), b.accounts.alice.privateKey58, 'the key is not asked twice');
  await launcher.click('#dialog-yes');
  const paid = await fresh2;
  assert.ok(paid.r, `SEND_COIN answered ${JSON.stringify(paid.e)}`);
  assert.equal(Number(await balance(bob)), before + 1.75);
  assert.equal(await fetch(`${node.url}/addresses/publickey/${alice}`).then((r) => r.text()), b.accounts.alice.publicKey58, 'on chain now');
  await api('PUT', `/api/qapps/${apps.fixture.id}`, { actions: [] });
});

test('Chromium: allowed PUBLISH_QDN_RESOURCE and PUBLISH_MULTIPLE_QDN_RESOURCES are signed in their signing form and published', async () => {
  await api('PUT', `/api/qapps/${apps.fixture.id}`, { actions: ['PUBLISH_QDN_RESOURCE', 'PUBLISH_MULTIPLE_QDN_RESOURCES'] });
  await page.goto(`${apps.ncOrigin}/?app=${apps.fixture.id}`);
  const app = await waitFor(() => appFrame(page), 'the app frame');
  await app.waitForFunction(() => document.getElementById('account').textContent.startsWith('Q'));
  const code = (req) => app.evaluate((r) => qortalRequest(r).then(() => 'answered', (e) => e.code), req);
  assert.equal(await code({ action: 'PUBLISH_QDN_RESOURCE', service: 'DOCUMENT', name: 'Fixture', data64: 'aGk=' }), 'invalid_request', 'a name nobody owns');
  const pending = app.evaluate(() => qortalRequest({ action: 'PUBLISH_QDN_RESOURCE', service: 'DOCUMENT', identifier: 'hello', filename: 'hello.txt', title: 'Hello', data64: btoa('hello from the gateway') })
    .then((r) => ({ r }), (e) => ({ e })));
  const launcher = launcherFrame(page);
  await launcher.waitForSelector('#dialog:not([hidden])');
  assert.match(await launcher.locator('#dialog-title').innerText(), /asks you to publish on QDN/);
  const shown = await launcher.locator('#dialog-tx').innerText();
  assert.match(shown, /"type": "ARBITRARY"/);
  assert.match(shown, /"name": "Alice"/);
  assert.match(shown, /"identifier": "hello"/);
  await launcher.fill('#key', b.accounts.alice.privateKey58);
  await launcher.click('#dialog-yes');
  const got = await pending;
  assert.ok(got.r, `PUBLISH_QDN_RESOURCE answered ${JSON.stringify(got.e)}`);
  assert.equal(got.r.type, 'ARBITRARY');
  // The fake node accepts an ARBITRARY signature only over core's signing form.
  const text = await app.evaluate(() => qortalRequest({ action: 'FETCH_QDN_RESOURCE', service: 'DOCUMENT', name: 'Alice', identifier: 'hello', filepath: 'hello.txt' }));
  assert.equal(text, 'hello from the gateway');
  // Several at once: one prompt, every transaction signed in the launcher.
  const many = app.evaluate(() => qortalRequest({ action: 'PUBLISH_MULTIPLE_QDN_RESOURCES', resources: [
    { service: 'DOCUMENT', identifier: 'one', filename: 'one.txt', data64: btoa('first') },
    { service: 'DOCUMENT', identifier: 'two', filename: 'two.txt', data64: btoa('second') },
  ] }).then((r) => ({ r }), (e) => ({ e })));
  await launcher.waitForSelector('#dialog:not([hidden])');
  assert.match(await launcher.locator('#dialog-tx').innerText(), /"identifier": "two"/);
  await launcher.fill('#key', b.accounts.alice.privateKey58);
  await launcher.click('#dialog-yes');
  const both = await many;
  assert.ok(both.r, `PUBLISH_MULTIPLE_QDN_RESOURCES answered ${JSON.stringify(both.e)}`);
  assert.deepEqual(both.r.map((t) => t.identifier), ['one', 'two']);
  assert.equal(await app.evaluate(() => qortalRequest({ action: 'FETCH_QDN_RESOURCE', service: 'DOCUMENT', name: 'Alice', identifier: 'two', filepath: 'two.txt' })), 'second');
  await api('PUT', `/api/qapps/${apps.fixture.id}`, { actions: [] });
});

test('Chromium: app script cannot read broker cookies or fetch the console', async () => {
  await page.goto(`${apps.ncOrigin}/?app=${apps.fixture.id}`);
  const app = await waitFor(() => appFrame(page), 'the app frame');
  await app.waitForFunction(() => document.getElementById('account').textContent.startsWith('Q'));
  const brokerCookies = await page.context().cookies(b.issuer);
  assert.ok(brokerCookies.some((c) => c.name === 'qortal_oidc_sso'), 'the broker has its session cookie');
  assert.match(await app.evaluate(() => { try { return 'read:' + document.cookie; } catch (e) { return 'threw:' + e.name; } }), /^threw:SecurityError$/);
  assert.equal(await app.evaluate(() => { try { return localStorage.setItem('k', 'v') ?? localStorage.getItem('k'); } catch (e) { return e.name; } }), 'v');
  for (const target of [`${b.issuer}/admin/`, `${b.issuer}/api/qapps`, `${b.issuer}/.well-known/openid-configuration`]) {
    const got = await app.evaluate((u) => fetch(u, { credentials: 'include' }).then((r) => 'status:' + r.status, (e) => 'blocked:' + e.name), target);
    assert.equal(got, 'blocked:TypeError', `app fetch of ${target}`);
  }
  // Not even the launcher (the gateway's own, unsandboxed origin) sees them.
  const launcher = launcherFrame(page);
  assert.doesNotMatch(await launcher.evaluate(() => document.cookie), /qortal_oidc|qapps_session/);
  const fromLauncher = await launcher.evaluate((u) => fetch(u, { credentials: 'include' }).then((r) => 'status:' + r.status, (e) => 'blocked:' + e.name), `${b.issuer}/admin/`);
  assert.equal(fromLauncher, 'blocked:TypeError');
  // Opened top-level, an app page is still sandboxed by its CSP.
  const top = await browser.context.newPage();
  await top.goto(app.url());
  assert.match(await top.evaluate(() => { try { return 'read:' + document.cookie; } catch (e) { return 'threw:' + e.name; } }), /^threw:/);
  await top.close();
});

test('Chromium: a republished app keeps serving the pinned version until re-pinned', async () => {
  const res = await fetch(`${node.url}/_fake/publish`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ service: 'APP', name: 'Fixture', title: 'Fixture v2', files: { 'index.html': '<!DOCTYPE html><html><head><title>v2</title></head><body><h1 id="v2">version two</h1></body></html>' } }),
  });
  const { signature } = await res.json();
  await page.reload();
  let app = await waitFor(() => appFrame(page), 'the app frame');
  await app.waitForSelector('#account');
  assert.equal(await app.locator('#v2').count(), 0, 'the republished version is served before a re-pin');
  const entry = await api('GET', `/api/qapps/${apps.fixture.id}`);
  assert.equal(entry.updateAvailable, true);
  assert.equal(entry.latestSignature, signature);

  if (shots) {
    // The console page as an admin sees it, with the update waiting.
    const { page: admin } = await openPage(browser.context);
    await admin.goto(`${b.issuer}/admin/signin`);
    await admin.fill('#address', b.accounts.alice.address);
    await admin.click('#address-submit');
    await admin.waitForSelector('#private-key');
    await admin.fill('#private-key', b.accounts.alice.privateKey58);
    await Promise.all([admin.waitForURL((u) => u.pathname === '/admin/' || u.pathname === '/admin'), admin.click('#key-sign')]);
    await admin.goto(`${b.issuer}/admin/qapps?q=&service=APP`);
    await admin.screenshot({ path: path.join(shots, 'qapps-console.png'), fullPage: true });
    await admin.close();
  }

  const pinned = await api('POST', `/api/qapps/${apps.fixture.id}/pin`);
  assert.equal(pinned.pinnedSignature, signature);
  await page.reload();
  app = await waitFor(() => appFrame(page), 'the app frame');
  await app.waitForSelector('#v2');
});
