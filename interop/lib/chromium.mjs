// Debian's Chromium for the browser tests, launched the one way this machine
// needs: headless, no sandbox (tests run as root), and no background
// networking (the closed network refuses those connections).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const args = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

/** A persistent context on a fresh profile; close() also removes the profile. */
export async function launchContext(options = {}) {
  const profile = mkdtempSync(path.join(tmpdir(), 'qortal-oidc-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args, ...options });
    return {
      context,
      close: async () => {
        // A browser that does not close in 15 s (see closePostedPage) is
        // killed: its processes are the ones started on this fresh profile.
        if (!(await settle(context.close(), 15_000))) {
          console.error('chromium: context.close() did not return in 15 s; killing the browser');
          try {
            execFileSync('pkill', ['-KILL', '-f', `--user-data-dir=${profile}`]);
          } catch {
            // pkill exits 1 when nothing matched: the browser is gone.
          }
        }
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
}

/** A plain browser, for tests that need contexts with their own options. */
export function launchBrowser() {
  return chromium.launch({ executablePath, headless: true, args });
}

/**
 * Opens a page that records console errors and uncaught exceptions. Expected
 * 4xx answers show up as "Failed to load resource"; anything else (a CSP
 * "Refused to ..." above all) is a problem the test must fail on.
 */
export async function openPage(context) {
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  return { page, problems };
}

const settle = (p, ms) => Promise.race([p.then(() => true), new Promise((r) => setTimeout(() => r(false), ms).unref())]);

/**
 * Closes a page that ended on a form POST to another origin (form_post).
 * Under load Chromium sometimes never acknowledges closing such a page (seen
 * here about 1 run in 5 at full CPU load, after every assertion had passed),
 * so page.close() would hang the whole file. The page is left to the
 * context's close instead, which kills the browser if it also hangs.
 */
export async function closePostedPage(page) {
  if (!(await settle(page.close(), 5_000))) {
    console.error('chromium: page.close() did not return in 5 s; leaving the page to the context close');
  }
}
