// The end of a sign-in in a popup. The page that opened it notices by
// itself (it asks the gateway); tell it at once when the opener survived,
// and close the window.
'use strict';
(function () {
  if (window.opener) {
    try { window.opener.postMessage({ qappsSignedIn: true }, location.origin); } catch (e) { /* opener gone */ }
  }
  window.close();
})();
