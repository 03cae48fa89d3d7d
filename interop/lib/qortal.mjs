// Qortal helpers for the interop tests: Base58 and plain Ed25519 signing
// with node's crypto, from the test accounts in testdata/qortal-vectors.json
// (which come from Qortal core's own tests).
import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

export function base58Encode(bytes) {
  let n = BigInt('0x' + (Buffer.from(bytes).toString('hex') || '0'));
  let out = '';
  while (n > 0n) {
    out = ALPHABET[Number(n % 58n)] + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = '1' + out;
  }
  return out;
}

export function base58Decode(s) {
  let n = 0n;
  for (const c of s) {
    const v = ALPHABET.indexOf(c);
    if (v < 0) throw new Error(`invalid Base58 character ${c}`);
    n = n * 58n + BigInt(v);
  }
  let hex = n === 0n ? '' : n.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  const zeros = s.match(/^1*/)[0].length;
  return Buffer.concat([Buffer.alloc(zeros), Buffer.from(hex, 'hex')]);
}

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function privateKeyFromSeed(seed) {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

/** Signs message (a string, as UTF-8) and returns the Base58 signature. */
export function signMessage(seed, message) {
  return base58Encode(sign(null, Buffer.from(message, 'utf8'), privateKeyFromSeed(seed)));
}

/** Public key bytes derived from the seed (checked against the vectors). */
export function publicKeyOf(seed) {
  const der = createPublicKey(privateKeyFromSeed(seed)).export({ format: 'der', type: 'spki' });
  return der.subarray(der.length - 32);
}

export function loadAccounts() {
  const v = JSON.parse(readFileSync(path.join(repoRoot, 'testdata', 'qortal-vectors.json'), 'utf8'));
  const out = {};
  for (const a of v.accounts) {
    out[a.name] = { ...a, seed: base58Decode(a.privateKey58) };
  }
  return out;
}
