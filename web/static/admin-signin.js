// Admin console sign-in: signs the challenge in this page with WebCrypto
// Ed25519, fills in the public key and signature and submits the ordinary
// form. Without JavaScript the form still works by pasting a signature
// made elsewhere. No third-party code; the private key is never sent (its
// input has no name and sits outside the form).
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const panel = $('in-browser');
  if (!panel || !window.crypto || !crypto.subtle) return;

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
    let zeros = 0;
    while (zeros < s.length && s[zeros] === '1') zeros++;
    const bytes = [];
    for (let i = zeros; i < s.length; i++) {
      const v = ALPHA_MAP.get(s[i]);
      if (v === undefined) throw new Error('invalid character at position ' + (i + 1));
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

  // Base58 or hex of the 32-byte seed or Qortal Hub's 64-byte export.
  function decodeKey(text) {
    const s = text.trim();
    if (!s) throw new Error('Enter the private key.');
    let bytes;
    if (/^[0-9a-fA-F]{64}$/.test(s) || /^[0-9a-fA-F]{128}$/.test(s)) bytes = hexdecode(s);
    else {
      try { bytes = b58decode(s); } catch (e) { throw new Error('The private key is not valid Base58 or hex (' + e.message + ').'); }
    }
    if (bytes.length !== 32 && bytes.length !== 64) {
      throw new Error('The private key should be 32 or 64 bytes, but this is ' + bytes.length + ' bytes.');
    }
    return { seed: bytes.slice(0, 32), pub: bytes.length === 64 ? bytes.slice(32) : null };
  }

  const PKCS8_PREFIX = hexdecode('302e020100300506032b657004220420');

  async function importSeed(seed) {
    const pkcs8 = new Uint8Array(PKCS8_PREFIX.length + 32);
    pkcs8.set(PKCS8_PREFIX);
    pkcs8.set(seed, PKCS8_PREFIX.length);
    let key;
    try {
      key = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, true, ['sign']);
    } catch (e) {
      throw new Error('This browser cannot sign with Ed25519 here. Sign elsewhere and paste the result below.');
    } finally {
      pkcs8.fill(0);
    }
    const jwk = await crypto.subtle.exportKey('jwk', key);
    return { key, pub: b64urlDecode(jwk.x) };
  }

  function same(a, b) {
    if (a.length !== b.length) return false;
    let d = 0;
    for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
    return d === 0;
  }

  function showError(msg) {
    $('key-error').textContent = msg;
    $('key-error').hidden = !msg;
  }

  panel.hidden = false;
  let derivedFor = '';
  $('private-key').addEventListener('input', async () => {
    showError('');
    const text = $('private-key').value;
    derivedFor = text;
    let shown = '—';
    try {
      if (text.trim()) {
        const { seed } = decodeKey(text);
        shown = b58encode((await importSeed(seed)).pub);
        seed.fill(0);
      }
    } catch (e) { shown = 'not a valid key yet'; }
    if (derivedFor === text) $('derived-pub').textContent = shown;
  });

  $('key-sign').addEventListener('click', async () => {
    const btn = $('key-sign');
    showError('');
    btn.disabled = true;
    try {
      const { seed, pub: exported } = decodeKey($('private-key').value);
      const { key, pub } = await importSeed(seed);
      seed.fill(0);
      if (exported && !same(exported, pub)) {
        throw new Error('This 64-byte key is inconsistent: its second half is not the public key of its first half.');
      }
      const message = $('message').textContent;
      const sig = new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, key, new TextEncoder().encode(message)));
      $('private-key').value = '';
      $('proof').value = '';
      $('public-key').value = b58encode(pub);
      $('signature').value = b58encode(sig);
      $('verify-form').submit();
    } catch (e) {
      showError(e.message || String(e));
      btn.disabled = false;
    }
  });
})();
