// A small Q-App as written for Qortal Hub: it uses the global qortalRequest,
// relative paths under the base href and client-side routing.
(function () {
  'use strict';
  function show(id, v) { document.getElementById(id).textContent = typeof v === 'string' ? v : JSON.stringify(v); }
  function route() { show('route', location.pathname.slice(location.pathname.lastIndexOf('/')) || '/'); }
  document.getElementById('nav-about').addEventListener('click', function (e) {
    e.preventDefault();
    history.pushState({}, '', 'about');
    route();
  });
  route();
  show('context', String(typeof _qdnService !== 'undefined' && _qdnService) + ' ' + String(typeof _qdnName !== 'undefined' && _qdnName));
  window.fixtureReady = (async function () {
    try {
      const acct = await qortalRequest({ action: 'GET_USER_ACCOUNT' });
      show('account', acct.address);
      const name = await qortalRequest({ action: 'GET_NAME_DATA', name: 'Alice' });
      show('name', name.name + ' owned by ' + name.owner);
    } catch (e) {
      show('account', 'error: ' + (e && (e.error || e.message) || e));
    }
  })();
})();
