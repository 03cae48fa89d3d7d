// The admin console on a phone (390 px wide, Chromium) and for keyboards:
// every console page with a table fits the screen (wide tables scroll inside
// their card, never the page), and the keyboard focus ring stands out 3:1
// against what it is drawn on, in the light and the dark colour scheme,
// measured from the colours Chromium computes. With
// INTEROP_SCREENSHOTS=../docs/screenshots the phone view of the mappings and
// audit pages, scrolled to their table, go to docs/screenshots
// (admin-*-mobile.png).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startBroker, startFakeNode } from './lib/harness.mjs';
import { launchContext, openPage as newPage } from './lib/chromium.mjs';
import { repoRoot, loadAccounts } from './lib/qortal.mjs';

const shotDir = process.env.INTEROP_SCREENSHOTS ? path.resolve(repoRoot, 'interop', process.env.INTEROP_SCREENSHOTS) : '';
const WIDTH = 390;

let b, browser, node, dir, campaignID;

async function api(method, route, body) {
  const res = await fetch(`${b.issuer}${route}`, {
    method,
    headers: { authorization: `Bearer ${b.adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

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
  assert.equal((await res.json()).ocs.meta.statuscode, 200, `${method} ${route}`);
}

before(async () => {
  const accounts = loadAccounts();
  dir = mkdtempSync(path.join(tmpdir(), 'qortal-oidc-mobile-'));
  const keyFile = path.join(dir, 'apikey.txt');
  node = await startFakeNode(['--api-key-file', keyFile, '--name', `Alice=${accounts.alice.address}=${accounts.alice.publicKey58}`]);
  b = await startBroker({
    adminAddresses: [accounts.alice.address],
    extraConfig: [
      `qortal: {node_url: ${JSON.stringify(node.url)}, api_key_file: ${JSON.stringify(keyFile)}}`,
      `qapps: {origin: "http://localhost:1"}`,
    ].join('\n'),
  });
  // Rows with long, unbreakable values: the worst case for a narrow screen.
  await ocs('POST', 'cloud/groups', { groupid: 'staff' });
  for (const id of ['carol-with-a-rather-long-user-id', 'dave']) {
    await ocs('POST', 'cloud/users', {
      userid: id, password: 'Correct-Horse-Battery-9', displayName: `${id} Example`, email: `${id}@example.org`, 'groups[]': 'staff',
    });
  }
  await api('POST', '/api/provision/link', { qortalAddress: accounts.bob.address, nextcloudUserId: 'carol-with-a-rather-long-user-id' });
  await api('POST', '/api/allowlist', { qortalAddress: accounts.chloe.address, note: 'A note with <markup> & a long-unbreakable-word-'.padEnd(120, 'x') });
  await api('POST', '/api/invites', { nextcloudUserId: 'dave', note: 'invite for dave, sent by e-mail' });
  campaignID = (await api('POST', '/api/onboarding', { group: 'staff', channels: ['notification'] })).id;
  await api('POST', '/api/qapps', { service: 'APP', name: 'Fixture', title: 'A Q-App with a long title that must wrap' });
  browser = await launchContext({ viewport: { width: WIDTH, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
});

after(async () => {
  await browser?.close();
  await b?.stop();
  await node?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function signIn(page) {
  const { alice } = b.accounts;
  await page.goto(`${b.issuer}/admin/`);
  if (new URL(page.url()).pathname === '/admin/') return; // the context is signed in already
  await page.goto(`${b.issuer}/admin/signin`);
  await page.fill('#address', alice.address);
  await Promise.all([page.waitForLoadState('load'), page.click('#address-submit')]);
  await page.waitForSelector('#in-browser:not([hidden])');
  await page.fill('#private-key', alice.privateKey58);
  await page.waitForFunction((pub) => document.getElementById('derived-pub').textContent === pub, alice.publicKey58);
  await Promise.all([page.waitForURL((u) => u.pathname === '/admin/'), page.click('#key-sign')]);
}

test('Chromium at 390 px: console pages with tables never scroll sideways; tables scroll inside their card', async () => {
  const { page, problems } = await newPage(browser.context);
  await page.goto(`${b.issuer}/admin/signin`);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= WIDTH, 'the sign-in page scrolls sideways');
  await signIn(page);
  const pages = ['/admin/', '/admin/mappings', '/admin/invites', '/admin/allowlist', '/admin/campaigns',
    `/admin/campaigns/${campaignID}`, '/admin/qapps', '/admin/audit'];
  let scrolledInside = 0;
  for (const p of pages) {
    await page.goto(`${b.issuer}${p}`);
    const m = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      tables: [...document.querySelectorAll('table')].map((t) => {
        const wrap = t.closest('.table-scroll');
        const card = t.closest('.card');
        return wrap && {
          scrolls: wrap.scrollWidth > wrap.clientWidth,
          overflowX: getComputedStyle(wrap).overflowX,
          focusable: wrap.tabIndex === 0 && wrap.getAttribute('role') === 'region' && !!wrap.getAttribute('aria-label'),
          insideCard: !!card && wrap.getBoundingClientRect().right <= card.getBoundingClientRect().right + 0.5,
        };
      }),
    }));
    if (m.page > WIDTH) {
      m.culprits = await page.evaluate((w) => [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > w + 0.5 && !e.closest('.table-scroll'))
        .map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${e.className ? '.' + e.className : ''}`).slice(0, 8), WIDTH);
    }
    assert.ok(m.page <= WIDTH, `${p}: document.documentElement.scrollWidth = ${m.page} > ${WIDTH}; sticking out: ${m.culprits}`);
    assert.ok(m.tables.length > 0, `${p}: no table (seed data missing?)`);
    for (const [i, t] of m.tables.entries()) {
      assert.ok(t, `${p}: table ${i} is not inside a .table-scroll region`);
      assert.equal(t.overflowX, 'auto', `${p}: table ${i}`);
      assert.ok(t.focusable, `${p}: table ${i}'s scroll region is not a labelled, focusable region`);
      assert.ok(t.insideCard, `${p}: table ${i} sticks out of its card`);
      if (t.scrolls) scrolledInside++;
    }
    if (shotDir && (p === '/admin/mappings' || p === '/admin/audit')) {
      mkdirSync(shotDir, { recursive: true });
      await page.evaluate((audit) => {
        const region = document.querySelector('.table-scroll');
        region.closest('.card').scrollIntoView();
        if (audit) region.scrollLeft = region.scrollWidth; // show the details column, scrolled to inside the card
      }, p === '/admin/audit');
      await page.screenshot({ path: path.join(shotDir, `admin-${p.slice(7)}-mobile.png`) });
    }
  }
  // The check above must be able to fail: at 390 px the wide tables do
  // overflow, and only their own region scrolls.
  assert.ok(scrolledInside >= 3, `only ${scrolledInside} tables scroll inside their region; the seed data is not wide enough`);

  // The audit log shows details as key/value lists, not JSON.
  await page.goto(`${b.issuer}/admin/audit`);
  assert.ok(await page.locator('table.audit dl.kv').count() >= 4, 'audit details are not key/value lists');
  const pairs = await page.locator('table.audit dl.kv dt').allInnerTexts();
  assert.ok(pairs.includes('nextcloudUserId'), `audit keys: ${pairs}`);
  assert.doesNotMatch(await page.locator('table.audit').innerText(), /\{"/);
  assert.deepEqual(problems, [], 'console errors or CSP violations');
  await page.close();
});

/** WCAG 2.2 contrast of two computed CSS colours (rgb()/rgba()), in the page. */
function focusRing() {
  const parse = (c) => (c.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const el = document.activeElement;
  const s = getComputedStyle(el);
  // The ring is drawn outside the element (outline-offset >= 0), so it sits
  // on the first opaque background among the element's ancestors.
  let bgEl = s.outlineOffset.startsWith('-') ? el : el.parentElement;
  let bg = 'rgb(255, 255, 255)';
  for (; bgEl; bgEl = bgEl.parentElement) {
    const c = getComputedStyle(bgEl).backgroundColor;
    const p = parse(c);
    if (p.length === 3 || (p.length === 4 && p[3] === 1)) { bg = c; break; }
  }
  const [l1, l2] = [lum(parse(s.outlineColor)), lum(parse(bg))].sort((a, b) => b - a);
  return { tag: el.tagName, id: el.id, text: (el.textContent || '').trim().slice(0, 30), style: s.outlineStyle,
    width: parseFloat(s.outlineWidth), color: s.outlineColor, bg, ratio: (l1 + 0.05) / (l2 + 0.05) };
}

test('Chromium: the keyboard focus ring contrasts at least 3:1 with its background, light and dark', async () => {
  const { page } = await newPage(browser.context);
  await signIn(page);
  for (const colorScheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme });
    for (const p of ['/admin/mappings', '/admin/audit']) {
      await page.goto(`${b.issuer}${p}`);
      // The first stop skips the header's links straight to the page.
      await page.keyboard.press('Tab');
      assert.equal((await page.evaluate(focusRing)).text, 'Skip to content', `${colorScheme} ${p}: first tab stop`);
      assert.ok((await page.evaluate(focusRing)).ratio >= 3, `${colorScheme} ${p}: skip link ring`);
      await page.keyboard.press('Enter');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'main', `${colorScheme} ${p}: skip link target`);
      await page.goto(`${b.issuer}${p}`);
      const seen = new Set();
      // Tab through the first stops: links in the bar, the search field,
      // buttons, and the table's scroll region.
      for (let i = 0; i < 14; i++) {
        await page.keyboard.press('Tab');
        const r = await page.evaluate(focusRing);
        if (r.tag === 'BODY') continue;
        seen.add(r.tag);
        assert.notEqual(r.style, 'none', `${colorScheme} ${p}: ${r.tag}#${r.id} "${r.text}" has no focus ring`);
        assert.ok(r.width >= 2, `${colorScheme} ${p}: ${r.tag}#${r.id} ring is ${r.width}px`);
        assert.ok(r.ratio >= 3, `${colorScheme} ${p}: ${r.tag}#${r.id} "${r.text}" ring ${r.color} on ${r.bg} is ${r.ratio.toFixed(2)}:1, want >= 3:1`);
      }
      assert.ok(seen.has('A') && (seen.has('INPUT') || seen.has('BUTTON')), `${colorScheme} ${p}: tabbed through only ${[...seen]}`);
    }
  }
  await page.close();
});
