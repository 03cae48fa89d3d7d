// A real OpenID Connect client (openid-client v6) against the real broker:
// discovery, authorization code + PKCE with a Qortal signature, ID token
// validation (signature via JWKS, iss, aud, nonce, exp), userinfo, refresh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import * as jose from 'jose';
import { startBroker, postJSON } from './lib/harness.mjs';
import { signMessage } from './lib/qortal.mjs';
import { beginAuthorization } from './lib/rp.mjs';

const algs = (process.env.INTEROP_SIGNING_ALGS || 'RS256,ES256,EdDSA').split(',');

for (const alg of algs) {
  test(`openid-client login, userinfo and refresh with ${alg} ID tokens`, async (t) => {
    const b = await startBroker({ signingAlg: alg });
    t.after(() => b.stop());
    const alice = b.accounts.alice;

    const config = await client.discovery(new URL(b.issuer), b.clientId, b.clientSecret, undefined, {
      execute: [client.allowInsecureRequests],
    });
    client.enableNonRepudiationChecks(config); // verify ID token signatures with the JWKS
    const meta = config.serverMetadata();
    assert.equal(meta.issuer, b.issuer);
    assert.ok(meta.code_challenge_methods_supported.includes('S256'));
    assert.ok(meta.id_token_signing_alg_values_supported.includes(alg));
    // RFC 9207: with this flag openid-client insists on iss in the response.
    assert.equal(meta.authorization_response_iss_parameter_supported, true);

    const { verifier, state, nonce, authURL } = await beginAuthorization(config, b.rp.redirectURI);

    // /authorize sends the browser to the login page.
    let res = await fetch(authURL, { redirect: 'manual' });
    assert.equal(res.status, 302, await res.text());
    const loginURL = new URL(res.headers.get('location'), b.issuer);
    assert.equal(loginURL.pathname, '/login');
    const authRequestId = loginURL.searchParams.get('authRequestID');
    assert.ok(authRequestId);

    // The Qortal part: challenge, sign with alice's key, verify.
    const ch = await postJSON(`${b.issuer}/login/challenge`, { authRequestId, qortalAddress: alice.address });
    assert.equal(ch.status, 200, JSON.stringify(ch.body));
    assert.match(ch.body.message, /Sign in to Interop RP via http:\/\/127\.0\.0\.1:\d+/);
    const wrong = await postJSON(`${b.issuer}/login/verify`, {
      challengeId: ch.body.challengeId, authRequestId, publicKey: alice.publicKey58,
      signature: signMessage(b.accounts.bob.seed, ch.body.message),
    });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error.code, 'bad_signature');
    const v = await postJSON(`${b.issuer}/login/verify`, {
      challengeId: ch.body.challengeId, authRequestId, publicKey: alice.publicKey58,
      signature: signMessage(alice.seed, ch.body.message),
    });
    assert.equal(v.status, 200, JSON.stringify(v.body));

    // The proof's answer sends the browser straight to the relying party
    // with the code (no hop through the provider's callback).
    const callback = new URL(v.body.redirectTo);
    assert.equal(callback.origin + callback.pathname, b.rp.redirectURI);
    assert.equal(callback.searchParams.get('iss'), b.issuer);

    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
    });
    const claims = tokens.claims();
    assert.equal(claims.iss, b.issuer);
    assert.equal(claims.sub, 'alice');
    assert.ok([claims.aud].flat().includes(b.clientId));
    assert.equal(claims.nonce, nonce);
    assert.ok(claims.exp > Date.now() / 1000);
    const header = JSON.parse(Buffer.from(tokens.id_token.split('.')[0], 'base64url'));
    assert.equal(header.alg, alg);
    assert.ok(header.kid, 'ID token header lacks kid (user_oidc requires one)');

    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    assert.equal(info.sub, 'alice');
    assert.equal(info.email, 'alice@example.org');

    assert.ok(tokens.refresh_token, 'no refresh token for offline_access');
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
    assert.ok(refreshed.access_token);
    assert.notEqual(refreshed.access_token, tokens.access_token);
    if (refreshed.id_token) assert.equal(refreshed.claims().sub, 'alice');
    const info2 = await client.fetchUserInfo(config, refreshed.access_token, 'alice');
    assert.equal(info2.sub, 'alice');

    // The code is single use.
    await assert.rejects(client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce,
    }));
  });
}

/** Runs the login as alice up to the relying party's callback URL. */
async function loginToCallback(b, config) {
  const alice = b.accounts.alice;
  const { verifier, state, nonce, authURL } = await beginAuthorization(config, b.rp.redirectURI);
  let res = await fetch(authURL, { redirect: 'manual' });
  assert.equal(res.status, 302, await res.text());
  const authRequestId = new URL(res.headers.get('location'), b.issuer).searchParams.get('authRequestID');
  const ch = await postJSON(`${b.issuer}/login/challenge`, { authRequestId, qortalAddress: alice.address });
  assert.equal(ch.status, 200, JSON.stringify(ch.body));
  const v = await postJSON(`${b.issuer}/login/verify`, {
    challengeId: ch.body.challengeId, authRequestId, publicKey: alice.publicKey58,
    signature: signMessage(alice.seed, ch.body.message),
  });
  assert.equal(v.status, 200, JSON.stringify(v.body));
  const callback = new URL(v.body.redirectTo);
  assert.equal(callback.origin + callback.pathname, b.rp.redirectURI);
  return { callback, verifier, state, nonce };
}

test('RFC 9207: openid-client refuses an authorization response from another issuer', async (t) => {
  const b = await startBroker();
  t.after(() => b.stop());
  const config = await client.discovery(new URL(b.issuer), b.clientId, b.clientSecret, undefined, {
    execute: [client.allowInsecureRequests],
  });
  const { callback, verifier, state, nonce } = await loginToCallback(b, config);
  const opts = { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce };
  const mixedUp = new URL(callback);
  mixedUp.searchParams.set('iss', 'https://attacker.example');
  const aboutIss = (err) => {
    assert.match(`${err.message} ${err.cause?.message ?? ''}`, /"iss"/);
    return true;
  };
  await assert.rejects(client.authorizationCodeGrant(config, mixedUp, opts), aboutIss);
  const missing = new URL(callback);
  missing.searchParams.delete('iss');
  await assert.rejects(client.authorizationCodeGrant(config, missing, opts), aboutIss);
  // The genuine response still works: the refusals did not spend the code.
  const tokens = await client.authorizationCodeGrant(config, callback, opts);
  assert.equal(tokens.claims().sub, 'alice');
});

test('RFC 9068 JWT access tokens verify against the JWKS with jose, and userinfo honours revocation', async (t) => {
  const b = await startBroker({ signingAlg: 'ES256', env: { QORTAL_OIDC_ACCESS_TOKEN_FORMAT: 'jwt' } });
  t.after(() => b.stop());
  const config = await client.discovery(new URL(b.issuer), b.clientId, b.clientSecret, undefined, {
    execute: [client.allowInsecureRequests],
  });
  const { callback, verifier, state, nonce } = await loginToCallback(b, config);
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce,
  });
  // What a resource server does: verify offline against the published keys.
  const jwks = jose.createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri));
  const { payload, protectedHeader } = await jose.jwtVerify(tokens.access_token, jwks, {
    issuer: b.issuer, audience: b.clientId, typ: 'at+jwt', algorithms: ['ES256'], requiredClaims: ['exp', 'iat', 'jti'],
  });
  assert.equal(protectedHeader.typ, 'at+jwt');
  assert.equal(payload.sub, 'alice');
  assert.equal(payload.client_id, b.clientId);
  assert.equal(payload.sid, tokens.claims().sid);
  assert.match(payload.scope, /\bopenid\b/);
  // The ID token is not an access token: typ tells them apart.
  await assert.rejects(jose.jwtVerify(tokens.id_token, jwks, { typ: 'at+jwt' }));

  const info = await client.fetchUserInfo(config, tokens.access_token, 'alice');
  assert.equal(info.sub, 'alice');
  await client.tokenRevocation(config, tokens.access_token, { token_type_hint: 'access_token' });
  await assert.rejects(client.fetchUserInfo(config, tokens.access_token, 'alice'), (err) => {
    assert.equal(err.status, 401);
    assert.match(err.response?.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    return true;
  });
  // Offline verification cannot see the revocation: it lasts until exp.
  await jose.jwtVerify(tokens.access_token, jwks, { issuer: b.issuer, audience: b.clientId, typ: 'at+jwt' });
});
