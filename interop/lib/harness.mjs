// Starts the real broker binary for the interop tests: builds cmd/qortal-oidc
// and the fake Nextcloud launcher, serves the broker on a loopback port with
// a generated config, links alice through the provisioning API, and runs a
// tiny relying-party callback server that records what it receives.
// startReplicas does the same with several processes on one Postgres.
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { repoRoot, loadAccounts } from './qortal.mjs';
import { createDatabase, serverURL } from './postgres.mjs';
import { startRoundRobin } from './roundrobin.mjs';

let built = null;

/** Builds the binaries once per test process, into a directory removed at exit. */
function buildBinaries() {
  if (built) return built;
  const dir = mkdtempSync(path.join(tmpdir(), 'qortal-oidc-bin-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const broker = path.join(dir, 'qortal-oidc');
  const fake = path.join(dir, 'fakenextcloud');
  const node = path.join(dir, 'fakenode');
  execFileSync('go', ['build', '-o', broker, './cmd/qortal-oidc'], { cwd: repoRoot, stdio: 'inherit' });
  execFileSync('go', ['build', '-o', fake, './interop/fakenextcloud'], { cwd: repoRoot, stdio: 'inherit' });
  execFileSync('go', ['build', '-o', node, './interop/fakenode'], { cwd: repoRoot, stdio: 'inherit' });
  built = { broker, fake, node };
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
    // Read a posted (form_post) body to its end before answering, and close
    // the connection: a half-read request left on a kept-alive socket is
    // how a browser ends up waiting on the stand-in.
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
      res.end('relying party callback received');
    });
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
 * Starts the fake Qortal node (interop/fakenode) with the fixture apps;
 * args are its flags. Returns { url, proc, stop }.
 */
export async function startFakeNode(args) {
  const proc = spawn(buildBinaries().node, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const [line] = await once(readline.createInterface({ input: proc.stdout }), 'line');
  const stop = async () => {
    proc.stdin.end();
    if (proc.exitCode === null) await once(proc, 'exit');
  };
  return { url: JSON.parse(line).url, proc, stop };
}

/** Starts the fake Nextcloud; returns { url, user, appPassword, proc }. */
async function startFake(bin) {
  const appPassword = randomBytes(16).toString('hex');
  const proc = spawn(bin, ['--app-password', appPassword], { stdio: ['pipe', 'pipe', 'pipe'] });
  const [line] = await once(readline.createInterface({ input: proc.stdout }), 'line');
  return { url: JSON.parse(line).url, user: 'admin', appPassword, proc };
}

/** Writes a broker config file; c: { issuer, listen, dataDir, adminToken, adminAddresses, nc, signingAlg, clientId, clientSecret, redirectURI }. */
function writeConfig(cfgPath, c) {
  writeFileSync(cfgPath, [
    `issuer: ${JSON.stringify(c.issuer)}`,
    `listen: ${JSON.stringify(c.listen)}`,
    `data_dir: ${JSON.stringify(c.dataDir)}`,
    'log: {level: warn, format: text}',
    'admin:',
    `  tokens: [{name: interop, token: ${JSON.stringify(c.adminToken)}}]`,
    `  addresses: ${JSON.stringify(c.adminAddresses || [])}`,
    `nextcloud: {url: ${JSON.stringify(c.nc.url)}, user: ${c.nc.user}, app_password: ${JSON.stringify(c.nc.appPassword)}}`,
    'oidc:',
    `  signing_alg: ${c.signingAlg || 'RS256'}`,
    '  clients:',
    `    - id: ${c.clientId}`,
    '      name: Interop RP',
    `      secret: ${JSON.stringify(c.clientSecret)}`,
    `      redirect_uris: [${JSON.stringify(c.redirectURI)}]`,
    ...(c.extraConfig ? [c.extraConfig] : []),
    '',
  ].join('\n'));
}

/** Links alice to Nextcloud user "alice" through the real provisioning API at base. */
async function provisionAlice(base, adminToken, alice) {
  const res = await fetch(`${base}/api/provision/upsert`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      qortalAddress: alice.address, nextcloudUserId: 'alice',
      displayName: 'Alice Example', email: 'alice@example.org',
    }),
  });
  if (res.status !== 200 && res.status !== 201) {
    throw new Error(`provision alice: ${res.status} ${await res.text()}`);
  }
}

function secrets() {
  return {
    adminToken: randomBytes(24).toString('hex'),
    clientSecret: randomBytes(24).toString('hex'),
    clientId: 'interop-rp',
  };
}

async function stopChild(child, signal = 'SIGTERM') {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  await once(child, 'exit');
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
  const { adminToken, clientSecret, clientId } = secrets();
  const fake = await startFake(bins.fake);
  const rp = await startRP();
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const cfgPath = path.join(dir, 'config.yaml');
  writeConfig(cfgPath, {
    issuer, listen: `127.0.0.1:${port}`, dataDir: path.join(dir, 'data'), adminToken,
    adminAddresses: opts.adminAddresses, nc: fake, signingAlg: opts.signingAlg,
    clientId, clientSecret, redirectURI: rp.redirectURI, extraConfig: opts.extraConfig,
  });

  const broker = spawn(bins.broker, ['serve', '--config', cfgPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...(opts.env || {}) },
  });
  const logs = collect(broker, 'broker');
  const stop = async () => {
    fake.proc.stdin.end();
    await Promise.all([stopChild(broker), fake.proc.exitCode === null ? once(fake.proc, 'exit') : null, rp.close()]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(`${issuer}/.well-known/openid-configuration`, broker, logs);
    await provisionAlice(issuer, adminToken, accounts.alice);
  } catch (err) {
    await stop();
    throw err;
  }
  const nextcloud = { url: fake.url, user: fake.user, appPassword: fake.appPassword };
  return { issuer, clientId, clientSecret, rp, accounts, adminToken, nextcloud, logs, stop, binDir: path.dirname(bins.broker) };
}

/**
 * Starts opts.replicas (default 2) `qortal-oidc serve` processes at once on
 * one fresh Postgres database (see lib/postgres.mjs) with one shared
 * key-encryption key, behind a round-robin proxy whose URL is the issuer, and
 * links alice through the proxy. Fails, never skips, without
 * QORTAL_OIDC_TEST_DATABASE_URL. Returns what startBroker does, with
 * proxy (lib/roundrobin.mjs), replicas (each { url, logs }) and database.
 */
export async function startReplicas(opts = {}) {
  const n = opts.replicas || 2;
  serverURL(); // fail before building anything when there is no Postgres
  const dir = mkdtempSync(path.join(tmpdir(), 'qortal-oidc-replicas-'));
  const bins = buildBinaries();
  const accounts = loadAccounts();
  const { adminToken, clientSecret, clientId } = secrets();
  const kek = randomBytes(32).toString('base64');
  const cleanups = [() => rmSync(dir, { recursive: true, force: true })];
  const stop = async () => {
    const errs = [];
    for (const c of cleanups.splice(0).reverse()) {
      try { await c(); } catch (err) { errs.push(err); }
    }
    if (errs.length) throw new AggregateError(errs, 'stopping the replicas');
  };
  try {
    const database = await createDatabase();
    cleanups.push(database.drop);
    const fake = await startFake(bins.fake);
    cleanups.push(async () => { fake.proc.stdin.end(); if (fake.proc.exitCode === null) await once(fake.proc, 'exit'); });
    const rp = await startRP();
    cleanups.push(rp.close);
    const proxy = await startRoundRobin();
    cleanups.push(proxy.close);
    const issuer = proxy.url;

    const replicas = [];
    for (let i = 0; i < n; i++) {
      const port = await freePort();
      const cfgPath = path.join(dir, `replica${i}.yaml`);
      // Separate data dirs: nothing may be shared except through Postgres.
      writeConfig(cfgPath, {
        issuer, listen: `127.0.0.1:${port}`, dataDir: path.join(dir, `data${i}`), adminToken,
        adminAddresses: opts.adminAddresses, nc: fake, signingAlg: opts.signingAlg,
        clientId, clientSecret, redirectURI: rp.redirectURI,
      });
      replicas.push({ url: `http://127.0.0.1:${port}`, cfgPath });
    }
    // All spawned before any is awaited: they migrate the empty database and
    // bootstrap the first signing key concurrently.
    for (const [i, r] of replicas.entries()) {
      r.proc = spawn(bins.broker, ['serve', '--config', r.cfgPath], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env, ...(opts.env || {}),
          QORTAL_OIDC_DATABASE_URL: database.url,
          QORTAL_OIDC_KEY_ENCRYPTION_KEY: kek,
        },
      });
      r.logs = collect(r.proc, `replica${i}`);
      cleanups.push(() => stopChild(r.proc));
    }
    await Promise.all(replicas.map((r) => waitReady(`${r.url}/.well-known/openid-configuration`, r.proc, r.logs)));
    proxy.setBackends(replicas.map((r) => r.url));
    await provisionAlice(issuer, adminToken, accounts.alice);
    const nextcloud = { url: fake.url, user: fake.user, appPassword: fake.appPassword };
    return {
      issuer, clientId, clientSecret, rp, accounts, adminToken, nextcloud, proxy, database,
      replicas: replicas.map((r) => ({ url: r.url, logs: r.logs })),
      logs: replicas.flatMap((r) => r.logs), stop, binDir: path.dirname(bins.broker),
    };
  } catch (err) {
    await stop().catch((e) => console.error(`cleanup after a failed start: ${e.message}`));
    throw err;
  }
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

/**
 * Starts the broker the way the README's quick start does: `qortal-oidc serve
 * --config configs/dev.yaml` from the repository root. Only what must differ
 * for a test is overridden, through the environment as any user could: a
 * free port (listen and issuer) and a fresh data directory. extraEnv adds
 * more QORTAL_OIDC_* settings. Returns { issuer, binDir, logs, stop }.
 */
export async function startDevBroker(extraEnv = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'qortal-oidc-dev-'));
  const bins = buildBinaries();
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const broker = spawn(bins.broker, ['serve', '--config', 'configs/dev.yaml'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env, QORTAL_OIDC_LISTEN: `127.0.0.1:${port}`, QORTAL_OIDC_ISSUER: issuer,
      QORTAL_OIDC_DATA_DIR: path.join(dir, 'data'), ...extraEnv,
    },
  });
  const logs = collect(broker, 'broker');
  const stop = async () => {
    await stopChild(broker);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(`${issuer}/.well-known/openid-configuration`, broker, logs);
  } catch (err) {
    await stop();
    throw err;
  }
  return { issuer, binDir: path.dirname(bins.broker), logs, stop, dir };
}
