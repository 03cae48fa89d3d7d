// Qortal sign-in page. No framework, no third-party code: Base58, key
// parsing and Ed25519 via WebCrypto come from qortal-sign.js (loaded first),
// so the CSP can stay 'self' only. The private key never leaves this page.
'use strict';

(function () {
  const app = document.getElementById('app');
  if (!app) return;
  const base = app.dataset.base || '';
  const authRequestId = app.dataset.authRequestId;
  // On /onboard/{token} the same page accepts an invite: other endpoints,
  // and the invite token goes along with the proof.
  const onboard = app.dataset.mode === 'onboard';
  const inviteToken = app.dataset.inviteToken || '';
  const $ = (id) => document.getElementById(id);

  const { b58encode, equalBytes, decodeKey, importSeed, signText } = window.QortalSign;

  // ---- HTTP ------------------------------------------------------------------
  async function post(path, body) {
    let res;
    try {
      res = await fetch(base + path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch (e) {
      throw { code: 'network', message: 'Could not reach the server. Check your connection and try again.' };
    }
    let data = {};
    try { data = await res.json(); } catch (e) { /* non-JSON error page */ }
    if (!res.ok) {
      const err = data.error || { code: 'http_' + res.status, message: 'Unexpected server response (' + res.status + ').' };
      err.redirectTo = data.redirectTo;
      throw err;
    }
    return data;
  }

  // ---- State and UI ------------------------------------------------------------
  const state = { address: '', hubPublicKey: '', challenge: null, timer: 0 };
  const hasHub = typeof window.qortalRequest === 'function';

  function show(el, on) { el.hidden = !on; }

  function setBusy(btn, busy) {
    btn.disabled = busy;
    btn.setAttribute('aria-busy', busy ? 'true' : 'false');
  }

  function sentence(text) {
    return text ? text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? '' : '.') : '';
  }

  function addressError(msg) {
    $('address-error').textContent = sentence(msg);
    show($('address-error'), !!msg);
    $('address').setAttribute('aria-invalid', msg ? 'true' : 'false');
  }

  function signError(err) {
    $('sign-status').hidden = true;
    if (!err) { show($('sign-error'), false); return; }
    // Every policy refusal (not_linked, blocked, not_allowlisted, invite_*,
    // nextcloud_user_exists, ...) comes with its explanation page, which is
    // also the way back to the application with access_denied.
    if (err.redirectTo) {
      window.location.assign(err.redirectTo);
      return;
    }
    $('sign-error-text').textContent = sentence(err.message || String(err));
    const renew = ['challenge_expired', 'challenge_used', 'challenge_not_found', 'auth_request_mismatch'].includes(err.code);
    show($('new-challenge'), renew);
    show($('sign-error'), true);
  }

  function status(msg) {
    $('sign-status').textContent = msg;
    show($('sign-status'), !!msg);
  }

  function selectTab(name) {
    for (const t of ['hub', 'key', 'manual']) {
      const on = t === name;
      $('tab-' + t).setAttribute('aria-selected', on ? 'true' : 'false');
      $('tab-' + t).tabIndex = on ? 0 : -1;
      show($('panel-' + t), on);
    }
  }

  function shellQuote(s) { return "'" + s.replace(/'/g, "'\\''") + "'"; }

  function tick() {
    const c = state.challenge;
    if (!c) return;
    const left = Math.round((Date.parse(c.expiresAt) - Date.now()) / 1000);
    if (left <= 0) {
      $('expiry').textContent = 'This challenge has expired.';
      clearInterval(state.timer);
      signError({ code: 'challenge_expired', message: 'This challenge has expired. Get a new one to continue.' });
      return;
    }
    const m = Math.floor(left / 60), s = String(left % 60).padStart(2, '0');
    $('expiry').textContent = 'Expires in ' + m + ':' + s + ' (at ' + new Date(c.expiresAt).toLocaleTimeString() + ').';
  }

  // The page's own challenge (none on /onboard): the message without the
  // address, which the page puts in once the user gives it, so signing can
  // start without asking the server for a challenge first. Used once; a
  // new one (or one for a page left open too long) comes from the server.
  const d = app.dataset;
  let pageChallenge = !onboard && d.challengeId
    ? { challengeId: d.challengeId, expiresAt: d.challengeExpires, head: d.messageHead, tail: d.messageTail, stamp: d.messageStamp }
    : null;

  function showChallenge(c) {
    state.challenge = c;
    $('sign-address').textContent = state.address;
    $('message').textContent = c.message;
    $('command').textContent = 'printf \'%s\' ' + shellQuote(c.message) + ' | qortal-oidc sign --key-file my.key';
    signError(null);
    status('');
    show($('step-address'), false);
    show($('step-sign'), true);
    clearInterval(state.timer);
    tick();
    state.timer = setInterval(tick, 1000);
    $('message').focus();
  }

  async function requestChallenge() {
    const c = onboard
      ? await post('/onboard/challenge', { inviteToken, qortalAddress: state.address })
      : await post('/login/challenge', { authRequestId, qortalAddress: state.address });
    pageChallenge = null; // a fresh one replaces it for good
    showChallenge(c);
  }

  // startSigning shows the message for state.address: from the page's own
  // challenge while it has a minute left, else from the server.
  async function startSigning() {
    const p = pageChallenge;
    if (p && Date.parse(p.expiresAt) - Date.now() > 60000) {
      showChallenge({ challengeId: p.challengeId, expiresAt: p.expiresAt, message: p.head + state.address + p.tail + p.stamp });
      return;
    }
    await requestChallenge();
  }

  async function verify(proof, btn) {
    signError(null);
    setBusy(btn, true);
    status('Checking your signature…');
    try {
      const body = onboard
        ? Object.assign({ challengeId: state.challenge.challengeId, inviteToken }, proof)
        : Object.assign({ challengeId: state.challenge.challengeId, authRequestId, qortalAddress: state.address }, proof);
      const res = await post(onboard ? '/onboard/verify' : '/login/verify', body);
      status(onboard ? 'Linked. Taking you to sign in…' : 'Signed in. Returning to the application…');
      window.location.assign(res.redirectTo);
    } catch (err) {
      signError(err);
    } finally {
      setBusy(btn, false);
    }
  }

  // Step 1: address.
  $('address-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const addr = $('address').value.trim();
    if (!addr) { addressError('Enter your Qortal address. It starts with Q.'); return; }
    if (!/^Q[1-9A-HJ-NP-Za-km-z]{25,39}$/.test(addr)) {
      addressError('That does not look like a Qortal address: it starts with Q and uses Base58 letters and digits (no 0, O, I or l).');
      return;
    }
    addressError('');
    state.address = addr;
    state.challenge = null;
    const btn = $('address-submit');
    setBusy(btn, true);
    try { await startSigning(); } catch (err) {
      if (err.code === 'auth_request_expired') addressError(err.message);
      else addressError(err.message || String(err));
    } finally { setBusy(btn, false); }
  });

  $('change-address').addEventListener('click', () => {
    clearInterval(state.timer);
    state.challenge = null;
    show($('step-sign'), false);
    show($('step-address'), true);
    $('address').focus();
  });

  $('new-challenge').addEventListener('click', async () => {
    const btn = $('new-challenge');
    setBusy(btn, true);
    try { await requestChallenge(); } catch (err) { signError(err); } finally { setBusy(btn, false); }
  });

  // Tabs, with arrow-key navigation as the ARIA tabs pattern expects.
  const tabs = ['hub', 'key', 'manual'].filter((t) => t !== 'hub' || hasHub);
  for (const t of tabs) {
    $('tab-' + t).addEventListener('click', () => selectTab(t));
    $('tab-' + t).addEventListener('keydown', (ev) => {
      const i = tabs.indexOf(t);
      let next = null;
      if (ev.key === 'ArrowRight') next = tabs[(i + 1) % tabs.length];
      if (ev.key === 'ArrowLeft') next = tabs[(i + tabs.length - 1) % tabs.length];
      if (next) { ev.preventDefault(); selectTab(next); $('tab-' + next).focus(); }
    });
  }

  // Path (a): Qortal Hub.
  if (hasHub) {
    show($('hub-account'), true);
    show($('tab-hub'), true);
    selectTab('hub');
    $('hub-account').addEventListener('click', async () => {
      try {
        const acct = await window.qortalRequest({ action: 'GET_USER_ACCOUNT' });
        state.hubPublicKey = acct.publicKey || '';
        $('address').value = acct.address || '';
        addressError('');
      } catch (e) {
        addressError('Qortal Hub did not share the account: ' + (e && e.message ? e.message : e));
      }
    });
    $('hub-sign').addEventListener('click', async () => {
      const btn = $('hub-sign');
      signError(null);
      setBusy(btn, true);
      try {
        let pub = state.hubPublicKey;
        if (!pub) {
          const acct = await window.qortalRequest({ action: 'GET_USER_ACCOUNT' });
          pub = acct.publicKey;
        }
        const tx = await post('/login/hub-transaction', { challengeId: state.challenge.challengeId, qortalAddress: state.address, publicKey: pub });
        status('Approve the transaction in Qortal Hub…');
        const signed = await window.qortalRequest({ action: 'SIGN_TRANSACTION', unsignedBytes: tx.unsignedBytes, process: false });
        const signedTransaction = typeof signed === 'string' ? signed : (signed && (signed.signedBytes || signed.data)) || '';
        setBusy(btn, false);
        await verify({ signedTransaction }, btn);
      } catch (err) {
        signError(err && err.code ? err : { message: 'Qortal Hub did not sign: ' + (err && err.message ? err.message : err) });
      } finally { setBusy(btn, false); }
    });
  }

  // Path (b): sign in this browser with a pasted or loaded key.
  // The public key is shown as soon as a key is typed or pasted, in a line
  // whose space is reserved, so nothing moves under the pointer on click.
  let derivedFor = '';
  let deriveTimer = 0;
  async function showDerived() {
    const text = $('private-key').value;
    if (text === derivedFor) return;
    derivedFor = text;
    let shown = '—';
    try {
      if (text.trim()) shown = await window.QortalSign.publicKeyOf(text);
    } catch (e) { shown = 'not a valid key yet'; }
    if ($('private-key').value === text) $('derived-pub').textContent = shown;
  }
  $('private-key').addEventListener('input', () => {
    if (!$('sign-error').hidden) signError(null);
    clearTimeout(deriveTimer);
    deriveTimer = setTimeout(showDerived, 150);
  });
  $('key-file').addEventListener('change', async () => {
    const f = $('key-file').files[0];
    if (!f) return;
    if (f.size > 4096) { signError({ message: 'That file is too large to be a key file.' }); return; }
    $('private-key').value = (await f.text()).trim();
    $('key-file').value = '';
    showDerived();
  });
  $('key-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const btn = $('key-sign');
    signError(null);
    try {
      const { seed, pub: exported } = decodeKey($('private-key').value);
      const { key, pub } = await importSeed(seed);
      seed.fill(0);
      if (exported && !equalBytes(exported, pub)) {
        throw new Error('This 64-byte key is inconsistent: its second half is not the public key of its first half. Is the export complete?');
      }
      const sig = await signText(key, state.challenge.message);
      await verify({ publicKey: b58encode(pub), signature: b58encode(sig) }, btn);
    } catch (err) {
      signError(err && err.code ? err : { message: err.message || String(err) });
    }
  });

  // Path (c): sign elsewhere and paste the result.
  async function copy(text, btn) {
    const label = btn.textContent;
    try {
      await navigator.clipboard.writeText(text);
      btn.textContent = 'Copied';
    } catch (e) {
      btn.textContent = 'Select and copy manually';
    }
    setTimeout(() => { btn.textContent = label; }, 2000);
  }
  $('copy-message').addEventListener('click', () => copy(state.challenge.message, $('copy-message')));
  $('copy-command').addEventListener('click', () => copy($('command').textContent, $('copy-command')));
  $('manual-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    let pub = $('manual-pub').value.trim();
    let sig = $('manual-sig').value.trim();
    const json = $('proof-json').value.trim();
    if (json) {
      let p;
      try { p = JSON.parse(json); } catch (e) {
        signError({ message: 'The pasted output is not valid JSON. Paste it whole, or fill in the two fields instead.' });
        return;
      }
      if (p.address && p.address !== state.address) {
        signError({ message: 'That output is for ' + p.address + ', but you are signing in as ' + state.address + '.' });
        return;
      }
      pub = p.publicKey || pub;
      sig = p.signature || sig;
    }
    if (!pub || !sig) {
      signError({ message: 'Paste the JSON output, or both the public key and the signature.' });
      return;
    }
    await verify({ publicKey: pub, signature: sig }, $('manual-verify'));
  });
})();
