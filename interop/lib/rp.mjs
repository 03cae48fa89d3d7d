// What a relying party such as Nextcloud's user_oidc does before sending the
// browser to /authorize: fresh PKCE verifier, state and nonce, and the
// authorization URL that carries them.
import * as client from 'openid-client';

export async function beginAuthorization(config, redirectURI, scope = 'openid profile email offline_access') {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authURL = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectURI,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  return { verifier, state, nonce, authURL };
}
