// The interop tests sign with these helpers, so check them against Qortal
// core's vectors first: a wrong helper would make every later failure moot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verify, createPublicKey } from 'node:crypto';
import { loadAccounts, base58Encode, base58Decode, publicKeyOf, signMessage } from './lib/qortal.mjs';

test('Base58 and key derivation match the Qortal vectors', () => {
  const accounts = loadAccounts();
  for (const name of ['alice', 'bob']) {
    const a = accounts[name];
    assert.equal(Buffer.from(a.seed).toString('hex'), a.privateKeyHex, `${name} seed`);
    assert.equal(base58Encode(publicKeyOf(a.seed)), a.publicKey58, `${name} public key`);
    assert.equal(base58Encode(base58Decode(a.address)), a.address);
  }
  assert.equal(base58Encode(Buffer.from([0, 0, 1])), '112');
});

test('signMessage produces a verifiable Ed25519 signature', () => {
  const { alice } = loadAccounts();
  const sig = base58Decode(signMessage(alice.seed, 'hello'));
  assert.equal(sig.length, 64);
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), publicKeyOf(alice.seed)]);
  const pub = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  assert.ok(verify(null, Buffer.from('hello'), pub, sig));
  assert.ok(!verify(null, Buffer.from('hellO'), pub, sig));
});
