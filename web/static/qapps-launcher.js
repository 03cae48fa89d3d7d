// The Q-Apps gateway's launcher: hosts one app in a sandboxed frame and
// answers its qortalRequest calls (see qapps-shim.js). Every request goes to
// the gateway, which applies the admin's policy; the launcher only adds
// what needs the user: agreeing to share the account once per app, and
// signing a transaction with a key that never leaves this page.
'use strict';
(function () {
  // ---- the sign-in page: inside Nextcloud's frame, sign in in a popup -------
  const signin = document.getElementById('signin');
  if (signin) {
    if (window.top !== window) {
      signin.addEventListener('click', function (e) {
        e.preventDefault();
        const w = window.open(signin.href + '&popup=1', 'qapps-signin', 'width=560,height=760');
        if (!w) { window.top.location.href = signin.href; return; }
        document.getElementById('signin-note').hidden = false;
        // The popup cannot tell this page when it is done (passing through
        // the broker severs its opener), so ask the gateway.
        const poll = setInterval(async function () {
          try {
            const res = await fetch('/auth/status', { credentials: 'same-origin', cache: 'no-store' });
            if (res.ok) { clearInterval(poll); location.reload(); }
          } catch (err) { /* retry */ }
        }, 1000);
      });
      window.addEventListener('message', function (e) {
        if (e.origin === location.origin && e.data && e.data.qappsSignedIn) location.reload();
      });
    }
    return;
  }
  if (!document.body.classList.contains('launcher')) return;

  const appID = document.body.dataset.appId;
  const appTitle = document.body.dataset.appTitle;
  const frame = document.getElementById('app');
  const dlg = {
    root: document.getElementById('dialog'), title: document.getElementById('dialog-title'),
    text: document.getElementById('dialog-text'), tx: document.getElementById('dialog-tx'),
    keyBox: document.getElementById('dialog-key'), key: document.getElementById('key'),
    keyError: document.getElementById('key-error'), yes: document.getElementById('dialog-yes'), no: document.getElementById('dialog-no'),
  };

  async function post(path, body) {
    const res = await fetch(path, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-Qapps-Bridge': '1' },
      body: JSON.stringify(body),
    });
    let data = null;
    try { data = await res.json(); } catch (e) { /* not JSON */ }
    if (!res.ok) {
      const msg = data && data.error && data.error.message || ('The gateway answered HTTP ' + res.status);
      return { error: { error: msg, code: data && data.error && data.error.code || 'gateway_error' } };
    }
    return data || {};
  }

  // One dialog at a time: requests needing the user wait in line.
  let line = Promise.resolve();
  function ask(opts) {
    const turn = line.then(function () {
      return new Promise(function (resolve) {
        dlg.title.textContent = opts.title;
        dlg.text.textContent = opts.text;
        dlg.tx.hidden = !opts.tx;
        dlg.tx.textContent = opts.tx || '';
        dlg.keyBox.hidden = !opts.key;
        dlg.key.value = opts.prefill || '';
        dlg.keyError.hidden = true;
        dlg.yes.textContent = opts.yes;
        dlg.root.hidden = false;
        (opts.key ? dlg.key : dlg.yes).focus();
        function finish(v) {
          dlg.yes.onclick = dlg.no.onclick = null;
          dlg.root.hidden = true;
          dlg.key.value = '';
          resolve(v);
        }
        dlg.no.onclick = function () { finish(null); };
        dlg.yes.onclick = async function () {
          if (!opts.key) { finish(true); return; }
          try {
            finish(await opts.key(dlg.key.value));
          } catch (e) {
            dlg.keyError.textContent = e.message || String(e);
            dlg.keyError.hidden = false;
          }
        };
      });
    });
    line = turn.catch(function () {});
    return turn;
  }

  function declined() { return { error: { error: 'User declined the request', code: 'user_declined' } }; }

  async function signWith(prompt, keyText) {
    const S = window.QortalSign;
    const { seed } = S.decodeKey(keyText);
    let imported;
    try { imported = await S.importSeed(seed); } finally { seed.fill(0); }
    // Built actions say which bytes core checks the signature over (an
    // ARBITRARY transaction's signature covers its data's hash).
    async function sign(t) {
      const bytes = S.b58decode(t.signBytes || t.unsignedBytes);
      return S.b58encode(new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, imported.key, bytes)));
    }
    const out = { publicKey: S.b58encode(imported.pub) };
    if (prompt.transactions) {
      out.transactions = [];
      for (const t of prompt.transactions) out.transactions.push({ unsignedBytes: t.unsignedBytes, signature: await sign(t) });
    } else {
      out.signature = await sign(prompt);
    }
    return out;
  }

  async function publicKeyOf(keyText) {
    const S = window.QortalSign;
    const { seed } = S.decodeKey(keyText);
    let imported;
    try { imported = await S.importSeed(seed); } finally { seed.fill(0); }
    return S.b58encode(imported.pub);
  }

  const titles = {
    SEND_COIN: 'asks you to send QORT', JOIN_GROUP: 'asks you to join a group', SEND_CHAT_MESSAGE: 'asks you to send a chat message',
    PUBLISH_QDN_RESOURCE: 'asks you to publish on QDN', PUBLISH_MULTIPLE_QDN_RESOURCES: 'asks you to publish on QDN', VOTE_ON_POLL: 'asks you to vote on a poll', CREATE_POLL: 'asks you to create a poll',
  };

  async function handle(request) {
    let answer = await post('/bridge/' + encodeURIComponent(appID), { request: request });
    let keyText = '';
    if (answer.error && answer.error.code === 'public_key_needed') {
      // The node does not know this account's key yet (no transaction so
      // far): the gateway needs the public key to build the transaction; the
      // private key stays in this page for the signature that follows.
      const pub = await ask({
        title: appTitle + ' ' + (titles[request.action] || 'asks you to sign a transaction'),
        text: 'Your account has no transaction on chain yet, so the gateway needs your public key to build this one. Enter your private key; it stays in this page.',
        yes: 'Continue',
        key: async function (k) { const p = await publicKeyOf(k); keyText = k; return p; },
      });
      if (!pub) return declined();
      answer = await post('/bridge/' + encodeURIComponent(appID), { request: request, publicKey: pub });
    }
    if (answer.error && answer.error.code === 'consent_required') {
      const ok = await ask({
        title: appTitle + ' wants your Qortal account',
        text: 'Share your Qortal address and public key with this app? You are asked once per app.',
        yes: 'Share',
      });
      if (!ok) return declined();
      return post('/bridge/' + encodeURIComponent(appID) + '/consent', {});
    }
    if (answer.sign) {
      const p = answer.sign;
      const signed = await ask({
        title: appTitle + ' ' + (titles[p.action] || 'asks you to sign a transaction'),
        text: p.process ? 'The signed transaction will be broadcast to the Qortal network.' : 'The app receives the signed transaction; nothing is broadcast.',
        tx: JSON.stringify(p.decoded, null, 2),
        yes: 'Sign',
        prefill: keyText,
        key: function (k) { return signWith(p, k); },
      });
      keyText = '';
      if (!signed) return declined();
      return post('/bridge/' + encodeURIComponent(appID) + '/signed', {
        action: p.action, unsignedBytes: p.unsignedBytes, publicKey: signed.publicKey, signature: signed.signature, process: p.process, token: p.token,
        transactions: signed.transactions,
      });
    }
    return answer;
  }

  window.addEventListener('message', function (e) {
    // Only the app's own frame, which is sandboxed: its origin is opaque.
    if (e.source !== frame.contentWindow || e.origin !== 'null') return;
    const port = e.ports && e.ports[0];
    const request = e.data && e.data.qappsRequest;
    if (!port || !request || typeof request !== 'object') return;
    handle(request).then(function (a) {
      port.postMessage(a.error ? { result: null, error: a.error } : { result: a.result === undefined ? null : a.result, error: null });
    }, function (err) {
      port.postMessage({ result: null, error: { error: String(err && err.message || err), code: 'launcher_error' } });
    });
  });
})();
