// The end of a sign-in in a popup: tell the page that opened it (on the
// gateway's own origin only) and close.
'use strict';
(function () {
  if (window.opener) {
    try { window.opener.postMessage({ qappsSignedIn: true }, location.origin); } catch (e) { /* opener gone */ }
    window.close();
  } else {
    location.replace(document.body.dataset.next || '/');
  }
})();
