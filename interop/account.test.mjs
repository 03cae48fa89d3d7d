// The users' /account page in Chromium, desktop and 390 px wide: sign in
// with a key through the broker, see the linked account, the session list
// and the activity, sign out everywhere; and the same page working with
// JavaScript off (everything but signing needs none).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startBroker } from './lib/harness.mjs';
import { repoRoot } from './lib/qortal.mjs';
import { launchContext, launchBrowser, openPage } from './lib/chromium.mjs';

// SCREENSHOTS=1 writes the README's screenshots into docs/screenshots.
const shots = process.env.SCREENSHOTS ? path.join(repoRoot, 'docs', 'screenshots') : null;

let b;

before(async () => { b = await startBroker(); });
after(async () => { await b?.stop(); });

async function signIn(page, acct) {
  await page.goto(`${b.issuer}/account`);
  await Promise.all([page.waitForURL((u) => u.pathname === '/authorize'), page.click('#account-signin')]);
  await page.fill('#address', acct.address);
  await page.click('#address-submit');
  await page.waitForSelector('#step-sign:not([hidden])');
  await page.fill('#private-key', acct.privateKey58);
  await Promise.all([page.waitForURL((u) => u.pathname === '/account'), page.click('#key-sign')]);
}

for (const [name, viewport] of [['desktop', { width: 1280, height: 900 }], ['390px', { width: 390, height: 844 }]]) {
  test(`Chromium ${name}: /account shows the linked account, sessions and activity; sign out everywhere`, async () => {
    const browser = await launchContext({ viewport });
    try {
      const { page, problems } = await openPage(browser.context);
      const alice = b.accounts.alice;
      await signIn(page, alice);
      assert.equal(await page.locator('#address').innerText(), alice.address);
      assert.equal(await page.locator('#linked-user').innerText(), 'alice');
      assert.equal(await page.locator('#linked-name').innerText(), 'Alice Example');
      assert.ok(await page.locator('#this-browser').isVisible(), 'the current browser is marked');
      assert.equal(await page.locator('#session-list tbody tr').count(), 1);
      assert.match(await page.locator('#activity-list').innerText(), /login\.success/);
      assert.match(await page.locator('#clients').innerText(), /Login Flow v2/);
      assert.equal(await page.locator('#names').count(), 0, 'no node configured: no names shown');
      // Nothing wider than the screen.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `page is ${overflow}px wider than the ${viewport.width}px viewport`);
      if (shots) {
        await page.screenshot({ path: path.join(shots, name === 'desktop' ? 'account.png' : 'account-mobile.png'), fullPage: true });
      }
      // A second sign-in elsewhere in the same browser is single sign-on:
      // the demo app is off here, so check /authorize through /account again.
      await Promise.all([page.waitForURL((u) => u.pathname === '/account'), page.click('#signout-everywhere')]);
      assert.ok(await page.locator('#account-signin').isVisible());
      assert.match(await page.locator('#notice').innerText(), /signed out everywhere/);
      assert.deepEqual(problems, [], 'console errors or CSP violations');
    } finally {
      await browser.close();
    }
  });
}

test('Chromium without JavaScript: /account renders and signs out everywhere', async () => {
  // Sign in with JavaScript (signing needs it), then carry the cookies into
  // a context with JavaScript off.
  const withJS = await launchContext({ viewport: { width: 1280, height: 900 } });
  let cookies;
  try {
    const { page } = await openPage(withJS.context);
    await signIn(page, b.accounts.alice);
    cookies = await withJS.context.cookies(b.issuer);
  } finally {
    await withJS.close();
  }
  const plain = await launchBrowser();
  try {
    const ctx = await plain.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
    await ctx.addCookies(cookies);
    const { page, problems } = await openPage(ctx);
    await page.goto(`${b.issuer}/account`);
    assert.equal(await page.locator('#address').innerText(), b.accounts.alice.address);
    await Promise.all([page.waitForURL((u) => u.pathname === '/account'), page.click('#signout-everywhere')]);
    assert.ok(await page.locator('#account-signin').isVisible());
    assert.deepEqual(problems, []);
  } finally {
    await plain.close();
  }
});
