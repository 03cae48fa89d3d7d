package qapps

import (
	"bytes"
	"html/template"
	"net/http"
)

// Every page is html/template: app names and titles come from publishers
// and admins and are escaped wherever they appear.
var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"initial": func(s string) string {
		for _, r := range s {
			return string(r)
		}
		return "?"
	},
}).Parse(`
{{define "head"}}<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}}</title><link rel="stylesheet" href="/static/qapps.css"></head>{{end}}

{{define "home"}}{{template "head" "Qortal apps"}}
<body class="page"><header class="bar"><strong>Qortal apps</strong><span class="who">{{if .User.Name}}{{.User.Name}}{{else}}{{.User.User}}{{end}}
<form method="post" action="/auth/logout"><button type="submit" class="link">Sign out</button></form></span></header>
<main class="wrap"><h1>Your apps</h1>
{{if .Problem}}<p class="warn">{{.Problem}}</p>{{end}}
{{if .Apps}}<ul class="apps">{{range .Apps}}<li><a href="/app/{{.ID}}/" class="app">
{{if .Icon}}<img src="{{.Icon}}" alt="" width="40" height="40">{{else}}<span class="icon">{{initial .Title}}</span>{{end}}
<span><span class="title">{{.Title}}</span><span class="sub">{{.Service}} · {{.Name}}{{if .Identifier}} / {{.Identifier}}{{end}}</span></span></a></li>{{end}}</ul>
{{else}}<p>No apps are available to you yet. An administrator approves apps in the broker's console.</p>{{end}}
</main></body></html>{{end}}

{{define "launcher"}}{{template "head" .App.Title}}
<body class="launcher" data-app-id="{{.App.ID}}" data-app-title="{{.App.Title}}" data-origin="{{.Origin}}">
<header class="bar"><a href="/" class="link">All apps</a><strong class="apptitle">{{.App.Title}}</strong>
<span class="who" title="{{.User.Address}}">{{if .User.Name}}{{.User.Name}}{{else}}{{.User.User}}{{end}}</span></header>
<iframe id="app" src="{{.Frame}}" title="{{.App.Title}}" sandbox="allow-scripts allow-forms allow-popups allow-modals allow-downloads" referrerpolicy="no-referrer"></iframe>
<div id="dialog" class="dialog" hidden role="dialog" aria-modal="true" aria-labelledby="dialog-title">
 <div class="card">
  <h2 id="dialog-title"></h2>
  <p id="dialog-text"></p>
  <pre id="dialog-tx" hidden></pre>
  <div id="dialog-key" hidden>
   <label for="key">Your Qortal private key (Base58 or hex; it never leaves this page)</label>
   <input id="key" type="password" autocomplete="off" spellcheck="false">
   <p id="key-error" class="error" hidden></p>
  </div>
  <div class="buttons"><button id="dialog-no" type="button">Deny</button><button id="dialog-yes" type="button" class="primary">Allow</button></div>
 </div>
</div>
<script src="/static/qortal-sign.js"></script><script src="/static/qapps-launcher.js"></script>
</body></html>{{end}}

{{define "signin"}}{{template "head" "Sign in — Qortal apps"}}
<body class="page"><main class="wrap narrow"><h1>Qortal apps</h1>
<p>Sign in with your Qortal account to open the apps your organisation approved.</p>
<p><a id="signin" class="button primary" href="/auth/login?next={{.Next}}">Sign in with Qortal</a></p>
<p class="sub" id="signin-note" hidden>A sign-in window opens; this page continues when you are done.</p>
</main><script src="/static/qapps-launcher.js"></script></body></html>{{end}}

{{define "popup"}}{{template "head" "Signed in"}}
<body class="page" data-next="{{.Next}}"><main class="wrap narrow"><h1>Signed in</h1>
<p>You can close this window. <a href="{{.Next}}">Continue</a></p></main>
<script src="/static/qapps-popup.js"></script></body></html>{{end}}

{{define "error"}}{{template "head" .Error.Title}}
<body class="page"><main class="wrap narrow"><h1>{{.Error.Title}}</h1><p>{{.Error.Message}}</p>
<p class="sub">HTTP {{.Error.Status}} · {{.Error.Code}}</p><p><a href="/">All apps</a></p></main></body></html>{{end}}
`))

func (g *Gateway) page(w http.ResponseWriter, status int, name string, data any) {
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		g.log.Error("qapps: render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", g.csp.pages)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}
