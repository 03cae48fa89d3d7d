// A throwaway database for one interop test, on the server named by
// QORTAL_OIDC_TEST_DATABASE_URL (scripts/with-postgres.sh sets it, starting a
// server when needed). Created and dropped with the real psql client.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const testDatabaseEnv = 'QORTAL_OIDC_TEST_DATABASE_URL';

/** The server URL, or a plain error saying how to get one: these tests never skip. */
export function serverURL(env = process.env) {
  const url = env[testDatabaseEnv];
  if (!url) {
    throw new Error(`${testDatabaseEnv} is not set: the multi-process tests need a real PostgreSQL. ` +
      'Run them via `make test`, or `scripts/with-postgres.sh scripts/interop.sh` ' +
      '(which starts a throwaway server), or set it to a server you may create databases on.');
  }
  return url;
}

/** psql from PG_BIN, the newest /usr/lib/postgresql/N/bin, else PATH (as scripts/with-postgres.sh looks). */
export function findPsql(env = process.env) {
  const dirs = [];
  if (env.PG_BIN) dirs.push(env.PG_BIN);
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    dirs.push(...versions.map((v) => path.join(root, v, 'bin')));
  }
  for (const d of dirs) {
    const p = path.join(d, 'psql');
    if (existsSync(p)) return p;
  }
  return 'psql';
}

async function psql(serverUrl, sql) {
  try {
    await run(findPsql(), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', serverUrl, '-c', sql], { timeout: 30000 });
  } catch (err) {
    throw new Error(`psql ${JSON.stringify(sql)}: ${err.stderr || err.message}`);
  }
}

/**
 * Creates interop_<random> on the test server. Returns { name, url, drop }:
 * url is the server URL with the new database as its path; drop removes the
 * database even if a broker still holds connections to it.
 */
export async function createDatabase(env = process.env) {
  const server = serverURL(env);
  // Only hex after a fixed prefix: the name is spliced into SQL unquoted.
  const name = `interop_${randomBytes(6).toString('hex')}`;
  await psql(server, `CREATE DATABASE ${name}`);
  const u = new URL(server);
  u.pathname = `/${name}`;
  return {
    name,
    url: u.toString(),
    drop: () => psql(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}
