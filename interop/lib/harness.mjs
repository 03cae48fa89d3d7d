// Starts the real broker binary for the interop tests: builds cmd/qortal-oidc
// and the fake Nextcloud launcher, serves the broker on a loopback port with
// a generated config, links alice through the provisioning API, and runs a
// tiny relying-party callback server that records what it receives.
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { repoRoot, loadAccounts } from './qortal.mjs';

let built = null;

/** Builds the binaries once per test process, into a directory removed at exit. */
function buildBinaries() {
  if (built) return built;
  const dir = mkdtempSync(path.join(tmpdir(), 'qortal-oidc-bin-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const broker = path.join(dir, 'qortal-oidc');
  const fake = path.join(dir, 'fakenextcloud');
  execFileSync('go', ['build', '-o', broker, './cmd/qortal-oidc'], { cwd: repoRoot, stdio: 'inherit' });
  execFileSync('go', ['build', '-o', fake, './interop/fakenextcloud'], { cwd: repoRoot, stdio: 'inherit' });
  built = { broker, fake };
  return built;
}

async function freePort() {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  srv.close();
  await once(srv, 'close');
  return port;
}

/** A relying-party stand-in: records every callback request's query. */
async function startRP() {
  const calls = [];
  const waiters = [];
  const srv = createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname === '/callback') {
      calls.push(url);
      for (const w of waiters.splice(0)) w(url);
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('relying party callback received');
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const base = `http://127.0.0.1:${srv.address().port}`;
  return {
    redirectURI: `${base}/callback`,
    calls,
    close: () => new Promise((r) => srv.close(r)),
  };
}

function collect(child, name) {
  const lines = [];
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    readline.createInterface({ input: stream }).on('line', (l) => {
      lines.push(l);
      if (process.env.INTEROP_VERBOSE) console.error(`[${name}] ${l}`);
    });
  }
  return lines;
}

async function waitReady(url, child, logs, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`broker exited with ${child.exitCode} before serving:\n${logs.join('\n')}`);
    }
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`broker not ready at ${url} after ${timeoutMs} ms:\n${logs.join('\n')}`);
}

/**
 * Starts everything. opts.signingAlg picks the ID token algorithm; opts.adminAddresses
 * lists the Qortal addresses that may sign in to the /admin console.
 * Returns { issuer, clientId, clientSecret, rp, accounts, adminToken, nextcloud, logs, stop, binDir }
 * (nextcloud: the fake's { url, user, appPassword }, to seed users over OCS).
 */
export async function startBroker(opts = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'qortal-oidc-interop-'));
  const bins = buildBinaries();
  const accounts = loadAccounts();
  const ncPassword = randomBytes(16).toString('hex');
  const adminToken = randomBytes(24).toString('hex');
  const clientSecret = randomBytes(24).toString('hex');
  const clientId = 'interop-rp';

  const fake = spawn(bins.fake, ['--app-password', ncPassword], { stdio: ['pipe', 'pipe', 'pipe'] });
  const [line] = await once(readline.createInterface({ input: fake.stdout }), 'line');
  const ncURL = JSON.parse(line).url;

  const rp = await startRP();
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const cfgPath = path.join(dir, 'config.yaml');
  writeFileSync(cfgPath, [
    `issuer: ${JSON.stringify(issuer)}`,
    `listen: "127.0.0.1:${port}"`,
    `data_dir: ${JSON.stringify(path.join(dir, 'data'))}`,
    'log: {level: warn, format: text}',
    'admin:',
    `  tokens: [{name: interop, token: ${JSON.stringify(adminToken)}}]`,
    `  addresses: ${JSON.stringify(opts.adminAddresses || [])}`,
    `nextcloud: {url: ${JSON.stringify(ncURL)}, user: admin, app_password: ${JSON.stringify(ncPassword)}}`,
    'oidc:',
    `  signing_alg: ${opts.signingAlg || 'RS256'}`,
    '  clients:',
    `    - id: ${clientId}`,
    '      name: Interop RP',
    `      secret: ${JSON.stringify(clientSecret)}`,
    `      redirect_uris: [${JSON.stringify(rp.redirectURI)}]`,
    '',
  ].join('\n'));

  const broker = spawn(bins.broker, ['serve', '--config', cfgPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...(opts.env || {}) },
  });
  const logs = collect(broker, 'broker');
  const stop = async () => {
    broker.kill('SIGTERM');
    fake.stdin.end();
    await Promise.all([
      broker.exitCode === null ? once(broker, 'exit') : null,
      fake.exitCode === null ? once(fake, 'exit') : null,
      rp.close(),
    ]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(`${issuer}/.well-known/openid-configuration`, broker, logs);
    // Link alice to Nextcloud user "alice" through the real provisioning API.
    const res = await fetch(`${issuer}/api/provision/upsert`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        qortalAddress: accounts.alice.address, nextcloudUserId: 'alice',
        displayName: 'Alice Example', email: 'alice@example.org',
      }),
    });
    if (res.status !== 200 && res.status !== 201) {
      throw new Error(`provision alice: ${res.status} ${await res.text()}`);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const nextcloud = { url: ncURL, user: 'admin', appPassword: ncPassword };
  return { issuer, clientId, clientSecret, rp, accounts, adminToken, nextcloud, logs, stop, binDir: path.dirname(bins.broker) };
}

/** POSTs JSON and returns { status, body }. */
export async function postJSON(url, body) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}
