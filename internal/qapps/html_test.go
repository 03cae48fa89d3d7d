package qapps

import (
	"strings"
	"testing"
)

func TestRewriteHTMLReplacesTheNodesInjection(t *testing.T) {
	// What a node answers for /render/signature/{sig}/sub/page.html, as
	// jsoup serialises it.
	node := `<html>
 <head>
  <meta charset="UTF-8">
  <base href="/render/signature/5igSig/sub/">
  <script>var _qdnContext="render"; var _qdnTheme="light"; var _qdnLang="en"; var _qdnThemePalette=null; var _qdnService="APP"; var _qdnName="5igSig"; var _qdnIdentifier="default"; var _qdnPath="/sub/page.html"; var _qdnBase="/render/signature/5igSig"; var _qdnBaseWithPath="/render/signature/5igSig/sub";</script>
  <script src="/apps/q-apps.js?time=1700000000000"></script>
  <title>T</title>
 </head>
 <body>hi</body>
</html>`
	out := string(rewriteHTML([]byte(node), "/render/app1/TICKET", shimConfig{Origin: "https://qapps.example.org", Name: `Evil"</script><b>`, Service: "APP"}))
	for _, gone := range []string{"/apps/q-apps.js", "_qdnContext", "/render/signature/"} {
		if strings.Contains(out, gone) {
			t.Errorf("rewritten page still has %q:\n%s", gone, out)
		}
	}
	if !strings.Contains(out, `<base href="/render/app1/TICKET/sub/">`) {
		t.Errorf("base href not under the app prefix with the node's directory:\n%s", out)
	}
	if !strings.Contains(out, `src="/static/qapps-shim.js"`) || strings.Contains(out, `<b>`) || strings.Contains(out, `"</script>`) {
		t.Errorf("shim config not escaped:\n%s", out)
	}
	if !strings.Contains(out, `&#34;path&#34;:&#34;/sub/page.html&#34;`) {
		t.Errorf("node's _qdnPath not kept:\n%s", out)
	}
	// Routed to the index (custom routing): the node's base has no path.
	routed := `<html><head><meta charset="UTF-8"><base href="/render/signature/5igSig/"></head></html>`
	if out := string(rewriteHTML([]byte(routed), "/render/a/T", shimConfig{})); !strings.Contains(out, `<base href="/render/a/T/">`) {
		t.Errorf("routed page base:\n%s", out)
	}
	if out := string(rewriteHTML([]byte("plain text"), "/render/a/T", shimConfig{})); !strings.HasPrefix(out, `<head><base href="/render/a/T/">`) {
		t.Errorf("page without head:\n%s", out)
	}
}
