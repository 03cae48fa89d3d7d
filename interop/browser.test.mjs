// Drives Debian's Chromium through the real login page: the user types an
// address, pastes a Qortal key, the page signs in the browser with WebCrypto
// Ed25519 and the browser ends on the relying party's redirect URI with a
// code. Also checks the "not linked" path back to the relying party and that
// the page runs under its CSP with no violation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as client from 'openid-client';
import { startBroker } from './lib/harness.mjs';
import { closePostedPage, launchContext, openPage as newPage } from './lib/chromium.mjs';
import { beginAuthorization } from './lib/rp.mjs';

const shots = process.env.INTEROP_SCREENSHOTS; // a directory, to look at the page

let b, config, browser;

before(async () => {
  b = await startBroker();
  config = await client.discovery(new URL(b.issuer), b.clientId, b.clientSecret, undefined, {
    execute: [client.allowInsecureRequests],
  });
  browser = await launchContext();
});

after(async () => {
  await browser?.close();
  await b?.stop();
});

async function authorizationURL() {
  const { authURL, verifier, state, nonce } = await beginAuthorization(config, b.rp.redirectURI, 'openid profile email');
  return { url: authURL, verifier, state, nonce };
}

// Every test is a new visitor: without this the broker's single sign-on
// cookie from an earlier test would sign the page in without a signature.
const openPage = async () => {
  await browser.context.clearCookies();
  return newPage(browser.context);
};

async function shot(page, name) {
  if (shots) await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

// The paths the page requested from the broker, e.g. '/login/verify'.
function brokerRequests(page) {
  const paths = [];
  page.on('request', (r) => {
    if (r.url().startsWith(b.issuer)) paths.push(new URL(r.url()).pathname);
  });
  return paths;
}

test('Chromium: sign in with a pasted key lands on the relying party with a code', async () => {
  const { url, verifier, state, nonce } = await authorizationURL();
  const { page, problems } = await openPage();
  const requested = brokerRequests(page);
  await page.goto(url.href);
  await page.waitForSelector('#address');
  assert.match(await page.locator('h1').innerText(), /Sign in to Interop RP/);
  await shot(page, '1-address');

  await page.fill('#address', b.accounts.alice.address);
  await page.click('#address-submit');
  await page.waitForSelector('#step-sign:not([hidden])');
  const message = await page.locator('#message').innerText();
  assert.match(message, new RegExp(b.accounts.alice.address));
  assert.equal(await page.locator('#tab-key').getAttribute('aria-selected'), 'true');

  // A wrong key first: the page says so and stays usable.
  await page.fill('#private-key', b.accounts.bob.privateKey58);
  await page.click('#key-sign');
  await page.waitForSelector('#sign-error:not([hidden])');
  assert.match(await page.locator('#sign-error-text').innerText(),
    new RegExp(`This key belongs to ${b.accounts.bob.address}, not to ${b.accounts.alice.address}`));
  await shot(page, '2-wrong-key');

  await page.fill('#private-key', b.accounts.alice.privateKey58);
  // The page derives and shows the public key of the pasted key.
  await page.waitForFunction((pub) => document.getElementById('derived-pub').textContent === pub, b.accounts.alice.publicKey58);
  await shot(page, '3-key');
  await Promise.all([
    page.waitForURL((u) => u.href.startsWith(b.rp.redirectURI)),
    page.click('#key-sign'),
  ]);
  const landed = new URL(page.url());
  assert.equal(landed.searchParams.get('state'), state);
  assert.ok(landed.searchParams.get('code'), 'no code on the redirect');
  assert.deepEqual(problems, [], 'console errors or CSP violations on the login page');
  // The challenge came with the page: the browser asked for none.
  assert.ok(!requested.includes('/login/challenge'), `requests: ${requested.join(' ')}`);
  assert.equal(requested.filter((p) => p === '/login/verify').length, 2, `requests: ${requested.join(' ')}`);

  // The code the browser carried is good for tokens for alice.
  const tokens = await client.authorizationCodeGrant(config, landed, {
    pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce,
  });
  assert.equal(tokens.claims().sub, 'alice');

  // Single sign-on: a second login in the same browser needs no signature.
  const again = await authorizationURL();
  await page.goto(again.url.href);
  await page.waitForURL((u) => u.href.startsWith(b.rp.redirectURI));
  const sso = new URL(page.url());
  const ssoTokens = await client.authorizationCodeGrant(config, sso, {
    pkceCodeVerifier: again.verifier, expectedState: again.state, expectedNonce: again.nonce,
  });
  assert.equal(ssoTokens.claims().sub, 'alice');
  assert.equal(ssoTokens.claims().auth_time, tokens.claims().auth_time, 'auth_time is the signature\'s');
  const cookies = await browser.context.cookies(b.issuer);
  const c = cookies.find((x) => x.name === 'qortal_oidc_sso');
  assert.ok(c && c.httpOnly && c.sameSite === 'Lax', `session cookie: ${JSON.stringify(c)}`);
  await page.close();
});

test('Chromium: a page left open past its own challenge asks the broker for a fresh one', async () => {
  const { url, verifier, state, nonce } = await authorizationURL();
  const { page, problems } = await openPage();
  const requested = brokerRequests(page);
  await page.clock.install();
  await page.goto(url.href);
  await page.waitForSelector('#address');
  // Past the page challenge's expiry as the page sees time (the broker's
  // auth request lives on: its clock did not move).
  await page.clock.fastForward('05:30');
  await page.fill('#address', b.accounts.alice.address);
  await page.click('#address-submit');
  await page.waitForSelector('#step-sign:not([hidden])');
  assert.ok(requested.includes('/login/challenge'), `requests: ${requested.join(' ')}`);
  assert.match(await page.locator('#message').innerText(), new RegExp(b.accounts.alice.address));
  await page.fill('#private-key', b.accounts.alice.privateKey58);
  await Promise.all([
    page.waitForURL((u) => u.href.startsWith(b.rp.redirectURI)),
    page.click('#key-sign'),
  ]);
  const tokens = await client.authorizationCodeGrant(config, new URL(page.url()), {
    pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce,
  });
  assert.equal(tokens.claims().sub, 'alice');
  assert.deepEqual(problems, [], 'console errors or CSP violations on the login page');
  await page.close();
});

test('Chromium: an unlinked address is told so and can return to the relying party', async () => {
  const { url, state } = await authorizationURL();
  const { page, problems } = await openPage();
  await page.goto(url.href);
  await page.fill('#address', b.accounts.bob.address);
  await page.click('#address-submit');
  await page.waitForSelector('#step-sign:not([hidden])');
  await page.fill('#private-key', b.accounts.bob.privateKey58);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/login/denied'),
    page.click('#key-sign'),
  ]);
  assert.match(await page.locator('main').innerText(), /not linked to a Nextcloud account/);
  await shot(page, '4-denied');
  await Promise.all([
    page.waitForURL((u) => u.href.startsWith(b.rp.redirectURI)),
    page.getByRole('button', { name: 'Return to Interop RP' }).click(),
  ]);
  const landed = new URL(page.url());
  assert.equal(landed.searchParams.get('error'), 'access_denied');
  assert.equal(landed.searchParams.get('state'), state);
  assert.deepEqual(problems, []);
  await page.close();
});

test('Chromium: a policy refusal other than not_linked also shows its page and returns access_denied', async () => {
  const api = (method, body) => fetch(`${b.issuer}/api/policy`, {
    method, headers: { authorization: `Bearer ${b.adminToken}`, 'content-type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  assert.equal((await api('PUT', { mode: 'auto_provision', guard: 'allowlist' })).status, 200);
  try {
    const { url, state } = await authorizationURL();
    const { page, problems } = await openPage();
    await page.goto(url.href);
    await page.fill('#address', b.accounts.bob.address);
    await page.click('#address-submit');
    await page.waitForSelector('#step-sign:not([hidden])');
    await page.fill('#private-key', b.accounts.bob.privateKey58);
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/login/denied' && u.searchParams.get('reason') === 'not_allowlisted'),
      page.click('#key-sign'),
    ]);
    await Promise.all([
      page.waitForURL((u) => u.href.startsWith(b.rp.redirectURI)),
      page.getByRole('button', { name: 'Return to Interop RP' }).click(),
    ]);
    const landed = new URL(page.url());
    assert.equal(landed.searchParams.get('error'), 'access_denied');
    assert.equal(landed.searchParams.get('state'), state);
    assert.deepEqual(problems, []);
    await page.close();
  } finally {
    await api('DELETE');
  }
});

test('Chromium: the command the Sign elsewhere tab shows signs correctly', async () => {
  const { url, state } = await authorizationURL();
  const { page, problems } = await openPage();
  await page.goto(url.href);
  await page.fill('#address', b.accounts.alice.address);
  await page.click('#address-submit');
  await page.waitForSelector('#step-sign:not([hidden])');
  await page.click('#tab-manual');
  const cmd = await page.locator('#command').textContent();
  assert.match(cmd, /^printf '%s' '.*' \| qortal-oidc sign --key-file my\.key$/s);
  await shot(page, '5-manual');

  // Run exactly that command with the real CLI, as a user would in a shell.
  const work = mkdtempSync(path.join(tmpdir(), 'qortal-oidc-sign-'));
  try {
    writeFileSync(path.join(work, 'my.key'), b.accounts.alice.privateKey58 + '\n', { mode: 0o600 });
    const out = execFileSync('/bin/sh', ['-c', cmd], {
      cwd: work, env: { ...process.env, PATH: `${b.binDir}:${process.env.PATH}` }, encoding: 'utf8',
    });
    assert.equal(JSON.parse(out).address, b.accounts.alice.address);
    await page.fill('#proof-json', out);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  await Promise.all([
    page.waitForURL((u) => u.href.startsWith(b.rp.redirectURI)),
    page.click('#manual-verify'),
  ]);
  const landed = new URL(page.url());
  assert.equal(landed.searchParams.get('state'), state);
  assert.ok(landed.searchParams.get('code'));
  assert.deepEqual(problems, []);
  await page.close();
});

test('Chromium: response_mode=form_post posts code, state and iss to the relying party under the page CSP', async () => {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: b.rp.redirectURI, scope: 'openid profile email', response_mode: 'form_post',
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce,
  });
  const { page, problems } = await openPage();
  await page.goto(url.href);
  await page.fill('#address', b.accounts.alice.address);
  await page.click('#address-submit');
  await page.waitForSelector('#step-sign:not([hidden])');
  await page.fill('#private-key', b.accounts.alice.privateKey58);
  await page.waitForFunction((pub) => document.getElementById('derived-pub').textContent === pub, b.accounts.alice.publicKey58);
  // The broker's form_post page submits itself (its one script is allowed
  // by hash) to the redirect URI, which form-action allows.
  // Wait for the relying party's answer, not only the request: closing the
  // page while Chromium is still mid-navigation on that POST can hang
  // page.close() under load.
  const [postedResponse, formPage] = await Promise.all([
    page.waitForResponse((r) => r.url() === b.rp.redirectURI && r.request().method() === 'POST'),
    page.waitForResponse((r) => new URL(r.url()).pathname === '/authorize/callback'),
    page.click('#key-sign'),
  ]);
  const posted = postedResponse.request();
  const csp = formPage.headers()['content-security-policy'] || '';
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(csp, /script-src 'sha256-/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  const body = new URLSearchParams(posted.postData());
  assert.equal(body.get('state'), state);
  assert.equal(body.get('iss'), b.issuer);
  assert.ok(body.get('code'));
  assert.deepEqual(problems, [], 'console errors or CSP violations on the login or form_post page');

  // openid-client takes the posted response as it is and checks iss.
  const tokens = await client.authorizationCodeGrant(config, new Request(b.rp.redirectURI, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString(),
  }), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
  assert.equal(tokens.claims().sub, 'alice');
  await closePostedPage(page);
});

test('Chromium: with form_post, an unlinked address returns to the relying party by a posted access_denied', async () => {
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: b.rp.redirectURI, scope: 'openid', response_mode: 'form_post', state,
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256',
  });
  const { page, problems } = await openPage();
  await page.goto(url.href);
  await page.fill('#address', b.accounts.bob.address);
  await page.click('#address-submit');
  await page.waitForSelector('#step-sign:not([hidden])');
  await page.fill('#private-key', b.accounts.bob.privateKey58);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/login/denied'),
    page.click('#key-sign'),
  ]);
  const [postedResponse] = await Promise.all([
    page.waitForResponse((r) => r.url() === b.rp.redirectURI && r.request().method() === 'POST'),
    page.getByRole('button', { name: 'Return to Interop RP' }).click(),
  ]);
  const posted = postedResponse.request();
  const body = new URLSearchParams(posted.postData());
  assert.equal(body.get('error'), 'access_denied');
  assert.equal(body.get('state'), state);
  assert.equal(body.get('iss'), b.issuer);
  assert.deepEqual(problems, [], 'console errors or CSP violations');
  await closePostedPage(page);
});
