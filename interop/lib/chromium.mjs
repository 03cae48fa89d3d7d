// Debian's Chromium for the browser tests, launched the one way this machine
// needs: headless, no sandbox (tests run as root), and no background
// networking (the closed network refuses those connections).
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
        await context.close();
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
