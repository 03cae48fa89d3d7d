// A login started on one broker process and finished on another: two real
// `qortal-oidc serve` processes on one Postgres database, behind a
// round-robin proxy that is the issuer, so each request of the login goes to
// the other process. openid-client runs discovery, code + PKCE with a Qortal
// signature, the token exchange (ID token checked against the JWKS), userinfo
// and a refresh; then a login from the page's own challenge, the page served
// by one process and the proof (and its replay) checked by the other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { startReplicas, postJSON } from './lib/harness.mjs';
import { signMessage } from './lib/qortal.mjs';
import { beginAuthorization } from './lib/rp.mjs';

// The browser's reading of an attribute value (the page escapes only these).
const unescapeHTML = (v) => v.replace(/&(#39|#34|quot|amp|lt|gt|#43);/g, (_, e) => ({
  '#39': "'", '#34': '"', quot: '"', amp: '&', lt: '<', gt: '>', '#43': '+',
})[e]);

test('a login alternating between two broker processes on one Postgres', async (t) => {
  const b = await startReplicas({ replicas: 2 });
  t.after(() => b.stop());
  const alice = b.accounts.alice;
  const { proxy } = b;

  // Round robin makes consecutive requests alternate already; this only
  // guards against a client adding a request in between, by spending one
  // cheap request so that the next one goes to the other process.
  const switchFrom = async (entry) => {
    if (proxy.next() === entry.replica) {
      const res = await fetch(`${b.issuer}/.well-known/openid-configuration`);
      assert.equal(res.status, 200);
    }
  };
  const last = () => proxy.log.at(-1);
  const find = (method, pathname, from = 0) => {
    const i = proxy.log.findIndex((e, j) => j >= from && e.method === method && new URL(e.path, b.issuer).pathname === pathname);
    assert.ok(i >= 0, `no ${method} ${pathname} went through the proxy: ${JSON.stringify(proxy.log)}`);
    return proxy.log[i];
  };

  // Both processes bootstrapped concurrently: they must publish the same keys.
  const jwks = await Promise.all(b.replicas.map(async (r) => {
    const meta = await (await fetch(`${r.url}/.well-known/openid-configuration`)).json();
    assert.equal(meta.issuer, b.issuer);
    return (await fetch(new URL(new URL(meta.jwks_uri).pathname, r.url))).json();
  }));
  assert.ok(jwks[0].keys?.length > 0, `no keys: ${JSON.stringify(jwks[0])}`);
  assert.deepEqual(jwks[1], jwks[0], 'the two processes publish different JWKS');

  const config = await client.discovery(new URL(b.issuer), b.clientId, b.clientSecret, undefined, {
    execute: [client.allowInsecureRequests],
  });
  client.enableNonRepudiationChecks(config);
  assert.equal(config.serverMetadata().issuer, b.issuer);

  const { verifier, state, nonce, authURL } = await beginAuthorization(config, b.rp.redirectURI);

  let res = await fetch(authURL, { redirect: 'manual' });
  assert.equal(res.status, 302, await res.text());
  const authorize = last();
  const loginURL = new URL(res.headers.get('location'), b.issuer);
  const authRequestId = loginURL.searchParams.get('authRequestID');
  assert.ok(authRequestId, `no auth request id in ${loginURL}`);

  await switchFrom(authorize);
  const ch = await postJSON(`${b.issuer}/login/challenge`, { authRequestId, qortalAddress: alice.address });
  assert.equal(ch.status, 200, JSON.stringify(ch.body));
  const challenge = last();

  await switchFrom(challenge);
  const v = await postJSON(`${b.issuer}/login/verify`, {
    challengeId: ch.body.challengeId, authRequestId, publicKey: alice.publicKey58,
    signature: signMessage(alice.seed, ch.body.message),
  });
  assert.equal(v.status, 200, JSON.stringify(v.body));
  const verify = last();

  // The proof's answer carries the code to the relying party.
  const codeIssued = verify;
  const callback = new URL(v.body.redirectTo);
  assert.equal(callback.origin + callback.pathname, b.rp.redirectURI);
  assert.ok(callback.searchParams.get('code'), `no code: ${callback}`);

  await switchFrom(codeIssued);
  const mark = proxy.log.length;
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
  });
  const tokenStep = find('POST', new URL(config.serverMetadata().token_endpoint).pathname, mark);
  const claims = tokens.claims();
  assert.equal(claims.iss, b.issuer);
  assert.equal(claims.sub, 'alice');
  assert.equal(claims.nonce, nonce);

  await switchFrom(last());
  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(info.sub, 'alice');
  assert.equal(info.email, 'alice@example.org');
  const userinfo = last();

  assert.ok(tokens.refresh_token, 'no refresh token for offline_access');
  await switchFrom(userinfo);
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.ok(refreshed.access_token);
  assert.notEqual(refreshed.access_token, tokens.access_token);
  if (refreshed.id_token) assert.equal(refreshed.claims().sub, 'alice');
  await switchFrom(last());
  const info2 = await client.fetchUserInfo(config, refreshed.access_token, 'alice');
  assert.equal(info2.sub, 'alice');

  // The code is single use across processes too.
  await assert.rejects(client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce,
  }));

  // Each hand-over happened between different processes; alice's mapping
  // was written through one process and read by the other at the challenge.
  const provisioned = find('POST', '/api/provision/upsert');
  assert.ok([200, 201].includes(provisioned.status), `provision upsert: ${provisioned.status}`);
  const steps = { provisioned, authorize, challenge, verify, codeIssued, tokenStep, userinfo };
  const where = JSON.stringify(Object.fromEntries(Object.entries(steps).map(([k, e]) => [k, e.replica])));
  assert.notEqual(challenge.replica, provisioned.replica, `alice provisioned and looked up on one process: ${where}`);
  assert.notEqual(challenge.replica, authorize.replica, `challenge and authorize on one process: ${where}`);
  assert.notEqual(verify.replica, challenge.replica, `challenge and verify on one process: ${where}`);
  assert.notEqual(tokenStep.replica, codeIssued.replica, `code issued and redeemed on one process: ${where}`);

  // The login page's own challenge, as a browser gets it: the page from one
  // process, the proof naming the address on the other (the challenge is
  // sealed under the shared key), and the page challenge is single use there.
  await switchFrom(last());
  const page2 = await beginAuthorization(config, b.rp.redirectURI);
  res = await fetch(page2.authURL, { headers: { Accept: 'text/html' } });
  const html = await res.text();
  assert.equal(res.status, 200, html.slice(0, 200));
  const pageStep = last();
  const tag = html.match(/<main[^>]*\sid="app"[^>]*>/)?.[0] ?? '';
  const data = Object.fromEntries([...tag.matchAll(/\sdata-([a-z-]+)="([^"]*)"/g)].map(([, k, v]) => [k, unescapeHTML(v)]));
  assert.ok(data['challenge-id'] && data['auth-request-id'], `no page challenge in ${tag}`);
  const pageMessage = data['message-head'] + alice.address + data['message-tail'] + data['message-stamp'];
  await switchFrom(pageStep);
  const proof = {
    challengeId: data['challenge-id'], authRequestId: data['auth-request-id'], qortalAddress: alice.address,
    publicKey: alice.publicKey58, signature: signMessage(alice.seed, pageMessage),
  };
  const v2 = await postJSON(`${b.issuer}/login/verify`, proof);
  assert.equal(v2.status, 200, JSON.stringify(v2.body));
  const verify2 = last();
  assert.notEqual(verify2.replica, pageStep.replica, 'page and proof on one process');
  const tokens2 = await client.authorizationCodeGrant(config, new URL(v2.body.redirectTo), {
    pkceCodeVerifier: page2.verifier, expectedState: page2.state, expectedNonce: page2.nonce, idTokenExpected: true,
  });
  assert.equal(tokens2.claims().sub, 'alice');
  await switchFrom(verify2);
  const replay = await postJSON(`${b.issuer}/login/verify`, proof);
  assert.equal(replay.status, 409, JSON.stringify(replay.body));
  assert.notEqual(last().replica, verify2.replica, 'the replay went to the same process');

  const served = proxy.served();
  assert.equal(served.length, 2);
  assert.ok(served.every((n) => n > 0), `a process served nothing: ${served}`);
  const failed = proxy.log.filter((e) => e.status >= 500);
  assert.deepEqual(failed, [], 'the proxy saw server errors');
});
