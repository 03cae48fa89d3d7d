// Qortal key handling shared by the sign-in pages (login.js and
// admin-signin.js, each loaded after this file): Base58, private key
// parsing and Ed25519 signing with WebCrypto. No third-party code, so the
// CSP can stay 'self' only; the private key never leaves the page.
'use strict';

window.QortalSign = (function () {
  // ---- Base58 (Bitcoin alphabet), hex ---------------------------------------
  const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
  const ALPHA_MAP = new Map([...ALPHABET].map((c, i) => [c, i]));

  function b58encode(bytes) {
    let zeros = 0;
    while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
    const digits = [];
    for (let i = zeros; i < bytes.length; i++) {
      let carry = bytes[i];
      for (let j = 0; j < digits.length; j++) {
        carry += digits[j] << 8;
        digits[j] = carry % 58;
        carry = (carry / 58) | 0;
      }
      while (carry > 0) { digits.push(carry % 58); carry = (carry / 58) | 0; }
    }
    return '1'.repeat(zeros) + digits.reverse().map((d) => ALPHABET[d]).join('');
  }

  function b58decode(s) {
    if (!s) throw new Error('empty value');
    let zeros = 0;
    while (zeros < s.length && s[zeros] === '1') zeros++;
    const bytes = [];
    for (let i = zeros; i < s.length; i++) {
      const v = ALPHA_MAP.get(s[i]);
      if (v === undefined) throw new Error('invalid character "' + s[i] + '" at position ' + (i + 1));
      let carry = v;
      for (let j = 0; j < bytes.length; j++) {
        carry += bytes[j] * 58;
        bytes[j] = carry & 0xff;
        carry >>= 8;
      }
      while (carry > 0) { bytes.push(carry & 0xff); carry >>= 8; }
    }
    const out = new Uint8Array(zeros + bytes.length);
    out.set(bytes.reverse(), zeros);
    return out;
  }

  function hexdecode(s) {
    const out = new Uint8Array(s.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(i * 2, 2), 16);
    return out;
  }

  function b64urlDecode(s) {
    const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  }

  // equalBytes compares in constant time.
  function equalBytes(a, b) {
    if (a.length !== b.length) return false;
    let d = 0;
    for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
    return d === 0;
  }

  // decodeKey accepts Base58 or hex of 32 bytes (seed) or 64 bytes (Qortal
  // Hub's export: seed || public key). Messages never echo the key.
  function decodeKey(text) {
    const s = text.trim();
    let bytes;
    if (/^[0-9a-fA-F]{64}$/.test(s) || /^[0-9a-fA-F]{128}$/.test(s)) bytes = hexdecode(s);
    else {
      try { bytes = b58decode(s); } catch (e) {
        throw new Error('The private key is not valid Base58 or hex (' + e.message.replace(/ ".*" /, ' ') + ').');
      }
    }
    if (bytes.length !== 32 && bytes.length !== 64) {
      throw new Error('The private key should be 32 or 64 bytes, but this is ' + bytes.length + ' bytes.');
    }
    return { seed: bytes.slice(0, 32), pub: bytes.length === 64 ? bytes.slice(32) : null };
  }

  // ---- Ed25519 with WebCrypto ------------------------------------------------
  const PKCS8_PREFIX = hexdecode('302e020100300506032b657004220420');

  // importSeed returns the signing key and its public half. Its errors
  // carry a code ('no_webcrypto', 'no_ed25519') so a page may word them
  // for its own fallback.
  async function importSeed(seed) {
    if (!window.crypto || !crypto.subtle) {
      throw Object.assign(new Error('This browser cannot sign here (WebCrypto needs HTTPS). Use "Sign elsewhere".'), { code: 'no_webcrypto' });
    }
    const pkcs8 = new Uint8Array(PKCS8_PREFIX.length + 32);
    pkcs8.set(PKCS8_PREFIX);
    pkcs8.set(seed, PKCS8_PREFIX.length);
    let key;
    try {
      key = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, true, ['sign']);
    } catch (e) {
      throw Object.assign(new Error('This browser does not support Ed25519 signing. Update it, or use "Sign elsewhere".'), { code: 'no_ed25519' });
    } finally {
      pkcs8.fill(0);
    }
    // The JWK export of a private key carries its public half in "x".
    const jwk = await crypto.subtle.exportKey('jwk', key);
    return { key, pub: b64urlDecode(jwk.x) };
  }

  // publicKeyOf is the Base58 public key of a private key in any form
  // decodeKey accepts, to show before signing.
  async function publicKeyOf(text) {
    const { seed } = decodeKey(text);
    try {
      return b58encode((await importSeed(seed)).pub);
    } finally {
      seed.fill(0);
    }
  }

  async function signText(key, text) {
    const sig = await crypto.subtle.sign({ name: 'Ed25519' }, key, new TextEncoder().encode(text));
    return new Uint8Array(sig);
  }

  return Object.freeze({ b58encode, b58decode, equalBytes, decodeKey, importSeed, publicKeyOf, signText });
})();
