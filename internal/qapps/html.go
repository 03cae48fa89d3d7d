package qapps

import (
	"bytes"
	"encoding/json"
	"html"
	"regexp"
	"strings"
)

// The tags a node's HTMLParser prepends to <head> when it renders by
// signature (render context): <meta charset>, <base href>, the _qdn
// variables and q-apps.js (plus q-apps-gateway.js in gateway mode). The
// gateway replaces them with its own base and shim, keeping the node's
// decisions: the directory in its base href already says whether the
// request was routed back to the index.
var (
	nodeBaseRE   = regexp.MustCompile(`(?i)<base\s+href="/render/signature/[^/"]+(/[^"]*)?"\s*/?>`)
	nodeVarsRE   = regexp.MustCompile(`(?is)<script>\s*var _qdnContext=.*?</script>`)
	nodeScriptRE = regexp.MustCompile(`(?is)<script\s+src="/apps/q-apps(?:-gateway)?\.js[^"]*"\s*>\s*</script>`)
	nodePathRE   = regexp.MustCompile(`_qdnPath="((?:[^"\\]|\\.)*)"`)
	headRE       = regexp.MustCompile(`(?i)<head(\s[^>]*)?>`)
)

// shimConfig is what the gateway's shim needs, handed over in a data
// attribute so the page needs no inline script of the gateway's own.
type shimConfig struct {
	Origin     string `json:"origin"`     // the gateway (the launcher's origin)
	Node       string `json:"node"`       // prefix of the node proxy for this app and ticket
	Service    string `json:"service"`    // _qdnService
	Name       string `json:"name"`       // _qdnName
	Identifier string `json:"identifier"` // _qdnIdentifier
	Path       string `json:"path"`       // _qdnPath
	Base       string `json:"base"`       // _qdnBase
	BaseWith   string `json:"baseWithPath"`
}

// rewriteHTML turns a page as the node rendered it into the gateway's:
// base href under the app's ticketed prefix, the gateway's shim instead of
// the node's q-apps.js. prefix is "/render/{id}/{ticket}".
func rewriteHTML(page []byte, prefix string, cfg shimConfig) []byte {
	dir := "/"
	if m := nodeBaseRE.FindSubmatch(page); m != nil && len(m[1]) > 0 {
		dir = string(m[1])
	}
	if !strings.HasSuffix(dir, "/") {
		dir += "/"
	}
	if m := nodePathRE.FindSubmatch(page); m != nil {
		var p string
		if json.Unmarshal([]byte(`"`+string(m[1])+`"`), &p) == nil {
			cfg.Path = p
		}
	}
	cfg.Base = prefix
	cfg.BaseWith = prefix + strings.TrimSuffix(dir, "/")
	page = nodeBaseRE.ReplaceAll(page, nil)
	page = nodeVarsRE.ReplaceAll(page, nil)
	page = nodeScriptRE.ReplaceAll(page, nil)

	conf, _ := json.Marshal(cfg) // escapes <, > and & too
	inject := []byte(`<base href="` + html.EscapeString(prefix+dir) + `"><script src="/static/qapps-shim.js" data-qapps="` +
		html.EscapeString(string(conf)) + `"></script>`)
	if loc := headRE.FindIndex(page); loc != nil {
		var b bytes.Buffer
		b.Write(page[:loc[1]])
		b.Write(inject)
		b.Write(page[loc[1]:])
		return b.Bytes()
	}
	// No <head> (the node injects nothing then either): put ours first.
	return append([]byte("<head>"+string(inject)+"</head>"), page...)
}
