// Admin console sign-in: signs the challenge in this page with WebCrypto
// Ed25519 (through qortal-sign.js, loaded first), fills in the public key
// and signature and submits the ordinary form. Without JavaScript the form
// still works by pasting a signature made elsewhere. No third-party code; the private key is never sent (its
// input has no name and sits outside the form).
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const panel = $('in-browser');
  if (!panel || !window.crypto || !crypto.subtle) return;

  const { b58encode, equalBytes } = window.QortalSign;

  // decodeKey and importSeed are qortal-sign.js's, worded for this form.
  function decodeKey(text) {
    if (!text.trim()) throw new Error('Enter the private key.');
    return window.QortalSign.decodeKey(text);
  }

  async function importSeed(seed) {
    try {
      return await window.QortalSign.importSeed(seed);
    } catch (e) {
      if (e.code === 'no_ed25519') throw new Error('This browser cannot sign with Ed25519 here. Sign elsewhere and paste the result below.');
      throw e;
    }
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
      if (text.trim()) shown = await window.QortalSign.publicKeyOf(text);
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
      if (exported && !equalBytes(exported, pub)) {
        throw new Error('This 64-byte key is inconsistent: its second half is not the public key of its first half.');
      }
      const message = $('message').textContent;
      const sig = await window.QortalSign.signText(key, message);
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
