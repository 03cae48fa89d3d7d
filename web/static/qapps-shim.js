// The Q-Apps gateway's stand-in for a node's q-apps.js, loaded first in every
// app page. The app runs in a sandboxed frame (an opaque origin), so every
// qortalRequest goes to the launcher around it, by postMessage with a
// MessageChannel port for the answer, exactly as Qortal Hub receives them;
// the launcher and the gateway decide. The app's own fetches of node API
// paths (/arbitrary, /names, /addresses) are sent through the gateway's
// allowlisted node proxy for this app.
'use strict';
(function () {
  const script = document.currentScript;
  const cfg = JSON.parse(script && script.dataset.qapps || '{}');

  // The variables a node's HTMLParser sets, for apps that read them.
  window._qdnContext = 'gateway';
  window._qdnTheme = 'light';
  window._qdnLang = 'en';
  window._qdnThemePalette = null;
  window._qdnService = cfg.service;
  window._qdnName = cfg.name;
  window._qdnIdentifier = cfg.identifier;
  window._qdnPath = cfg.path;
  window._qdnBase = cfg.base;
  window._qdnBaseWithPath = cfg.baseWithPath;

  // Timeouts as q-apps.js sets them: actions that wait for the user get an hour.
  function defaultTimeout(action) {
    switch (action) {
      case 'GET_USER_ACCOUNT': case 'SAVE_FILE': case 'SIGN_TRANSACTION': case 'DECRYPT_DATA':
      case 'PUBLISH_QDN_RESOURCE': case 'PUBLISH_MULTIPLE_QDN_RESOURCES':
        return 60 * 60 * 1000;
      case 'SEARCH_QDN_RESOURCES': return 30 * 1000;
      case 'FETCH_QDN_RESOURCE': case 'SEND_CHAT_MESSAGE': return 60 * 1000;
      case 'CREATE_TRADE_BUY_ORDER': case 'CREATE_TRADE_SELL_ORDER': case 'CANCEL_TRADE_SELL_ORDER':
      case 'VOTE_ON_POLL': case 'CREATE_POLL': case 'JOIN_GROUP': case 'DEPLOY_AT': case 'SEND_COIN':
        return 5 * 60 * 1000;
      default: return 30 * 1000;
    }
  }

  function send(request, timeout) {
    return new Promise(function (resolve, reject) {
      const channel = new MessageChannel();
      const timer = setTimeout(function () { channel.port1.close(); reject('The request timed out'); }, timeout);
      channel.port1.onmessage = function (e) {
        clearTimeout(timer);
        channel.port1.close();
        if (e.data && e.data.error) reject(e.data.error); else resolve(e.data ? e.data.result : null);
      };
      let copy;
      try { copy = JSON.parse(JSON.stringify(request)); } catch (err) { clearTimeout(timer); reject({ error: 'The request is not plain data' }); return; }
      // Only the launcher on the gateway's origin may read it.
      window.parent.postMessage({ qappsRequest: copy }, cfg.origin, [channel.port2]);
    });
  }

  window.qortalRequest = function (request) { return send(request, defaultTimeout(request && request.action)); };
  window.qortalRequestWithTimeout = function (request, timeout) { return send(request, timeout); };
  window.qortalRequestWithNoTimeout = function (request) { return send(request, 2147483647); };

  // Same-origin node API calls the app makes itself go through the proxy.
  const nodePath = /^\/(arbitrary|names|addresses)\//;
  function rewrite(u) {
    try {
      const url = new URL(u, location.href);
      if (url.origin === cfg.origin && nodePath.test(url.pathname)) return cfg.node + url.pathname + url.search;
    } catch (e) { /* not a URL: leave it */ }
    return u;
  }
  const realFetch = window.fetch;
  window.fetch = function (input, init) {
    if (typeof input === 'string' || input instanceof URL) input = rewrite(String(input));
    else if (input instanceof Request) { const to = rewrite(input.url); if (to !== input.url) input = new Request(to, input); }
    return realFetch.call(this, input, init);
  };
  const realOpen = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, u) {
    const args = Array.prototype.slice.call(arguments);
    args[1] = rewrite(String(u));
    return realOpen.apply(this, args);
  };

  // An opaque origin has no storage; give the page a memory-only one so
  // apps that use localStorage keep working for the visit.
  function memoryStorage() {
    const m = new Map();
    return {
      get length() { return m.size; },
      key: function (i) { return Array.from(m.keys())[i] ?? null; },
      getItem: function (k) { return m.has(String(k)) ? m.get(String(k)) : null; },
      setItem: function (k, v) { m.set(String(k), String(v)); },
      removeItem: function (k) { m.delete(String(k)); },
      clear: function () { m.clear(); },
    };
  }
  for (const name of ['localStorage', 'sessionStorage']) {
    try { void window[name]; } catch (e) {
      try { Object.defineProperty(window, name, { value: memoryStorage(), configurable: true }); } catch (e2) { /* keep the browser's */ }
    }
  }

  // Links: qortal:// links ask the launcher; external links are blocked as
  // the node blocks them.
  document.addEventListener('click', function (e) {
    const a = e.target && e.target.closest ? e.target.closest('a') : null;
    if (!a || !a.getAttribute('href')) return;
    const href = a.getAttribute('href');
    if (href.startsWith('qortal://')) {
      e.preventDefault();
      const parts = href.slice('qortal://'.length).split('/');
      window.qortalRequest({ action: 'LINK_TO_QDN_RESOURCE', service: (parts[0] || '').toUpperCase(), name: parts[1], path: parts.slice(2).join('/') }).catch(function () {});
    } else if (/^(https?:)?\/\//i.test(href)) {
      const url = new URL(href, location.href);
      if (url.origin !== cfg.origin) e.preventDefault();
    }
  });
})();
