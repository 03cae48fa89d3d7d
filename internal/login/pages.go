package login

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/oidcprovider"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/web"
)

// pageCSP allows only the broker's own files: no inline code, no framing.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

func loadPages(assetURL func(string) (string, error)) (*template.Template, error) {
	t, err := template.New("pages").Funcs(template.FuncMap{"asset": assetURL}).ParseFS(web.Templates(), "*.html")
	if err != nil {
		return nil, err
	}
	return t, nil
}

type pageData struct {
	Title, IssuerHost, BasePath string

	// login page
	AuthRequestID, ClientName, ClientID string
	// The page challenge (see pageChallenge): its id and expiry, and its
	// message without the address, in the pieces messageParts gives.
	ChallengeID, ChallengeExpires          string
	MessageHead, MessageTail, MessageStamp string

	// denied and error pages
	Heading, Message, Hint, Action, Reason string

	// Mode "onboard" turns the login page into the invite page.
	Mode, InviteToken string
}

func (h *Handler) basePage(title string) pageData {
	return pageData{Title: title, IssuerHost: issuerHost(h.issuer), BasePath: h.basePath}
}

// render writes a page. formAction widens form-action for the denied page,
// whose POST is answered with a redirect to the relying party: Chrome
// checks form-action against redirect targets too.
func (h *Handler) render(ctx context.Context, w http.ResponseWriter, status int, name string, data pageData, formAction string) {
	body, ok := h.renderBody(ctx, name, data)
	if !ok {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writePage(w, status, body, formAction)
}

// renderBody renders a page; false (logged) when the template failed.
func (h *Handler) renderBody(ctx context.Context, name string, data pageData) ([]byte, bool) {
	var buf bytes.Buffer
	if err := h.pages.ExecuteTemplate(&buf, name, data); err != nil {
		h.log.ErrorContext(ctx, "render page", "page", name, "err", err)
		return nil, false
	}
	return buf.Bytes(), true
}

// writePage sends a rendered page with the broker's page headers.
func writePage(w http.ResponseWriter, status int, body []byte, formAction string) {
	setPageHeaders(w.Header(), len(body), formAction)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// setPageHeaders sets the broker's page headers for a page of n bytes.
func setPageHeaders(hd http.Header, n int, formAction string) {
	setAPIHeaders(hd)
	csp := pageCSP
	if formAction != "" {
		csp += " " + formAction
	}
	hd.Set("Content-Security-Policy", csp)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Content-Type", "text/html; charset=utf-8")
	// A known length, not chunked encoding: every page's length is known
	// before anything is sent.
	hd.Set("Content-Length", strconv.Itoa(n))
}

func (h *Handler) errorPage(ctx context.Context, w http.ResponseWriter, e *apiError) {
	t := pageWording(e)
	d := h.basePage(t.heading)
	d.Heading, d.Message, d.Hint = t.heading, t.message, t.hint
	h.render(ctx, w, e.status, "error.html", d, "")
}

// pageWording is what a person reads for e: what happened and what to do,
// never the API's developer message (which names fields and parameters).
func pageWording(e *apiError) pageText {
	if e.page != nil {
		return *e.page
	}
	switch {
	case e.status == http.StatusServiceUnavailable:
		return pageText{"Sign-in is unavailable right now",
			"The sign-in service cannot reach its database at the moment.",
			"Wait a minute, then reload this page or start signing in again from the app."}
	case e.status >= 500:
		return pageText{"Something went wrong",
			"The sign-in service ran into a problem on its side; nothing was changed.",
			"Start signing in again from the app. If it keeps happening, tell your administrator."}
	case e.Code == "auth_request_expired":
		return pageText{"This sign-in has expired",
			"Sign-in links work for a few minutes and only once, and this one is no longer valid.",
			"Go back to the app (for example Nextcloud) and start signing in again."}
	default:
		return pageText{"This sign-in link can't be used",
			"The link that opened this page is incomplete or was changed.",
			"Go back to the app (for example Nextcloud) and start signing in again."}
	}
}

// LoginPage is the login page's handler (GET /login?authRequestID=...),
// which the provider serves in /authorize's own answer to a browser
// (oidcprovider.SetLoginPage).
func (h *Handler) LoginPage() http.Handler { return http.HandlerFunc(h.loginPage) }

// loginPage is where /authorize sends the browser.
func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	ar, e := h.authRequest(r.Context(), r.URL.Query().Get("authRequestID"))
	if e != nil {
		h.errorPage(r.Context(), w, e)
		return
	}
	if to, ok := h.singleSignOn(w, r, ar); ok {
		setAPIHeaders(w.Header())
		http.Redirect(w, r, to, http.StatusSeeOther)
		return
	}
	d := h.basePage("Sign in to " + clientLabel(ar.ClientName, ar.ClientID))
	d.AuthRequestID = ar.ID
	d.ClientName = clientLabel(ar.ClientName, ar.ClientID)
	d.ClientID = ar.ClientID
	h.pageChallenge(r.Context(), &d, ar)
	h.writeLoginPage(r.Context(), w, d)
}

// pageChallenge puts a challenge in the login page itself, for whatever
// address the user gives: the page builds the message around the address
// (head + address + tail + stamp) and goes straight to signing, with no
// request for a challenge in between, one round trip less per login. It is
// sealed like any (nothing stored), so a page never used costs nothing, and
// the proof names the address (verifyRequest.QortalAddress), which is part
// of the message signed. A page kept open past the challenge's expiry asks
// /login/challenge for a fresh one, as before. Without one (a failure here)
// the page asks for it too.
func (h *Handler) pageChallenge(ctx context.Context, d *pageData, ar oidcprovider.AuthRequestInfo) {
	sc, e := h.newChallenge(ctx, ar, "")
	if e != nil {
		return
	}
	d.ChallengeID, d.ChallengeExpires = h.seal(sc), sc.expires().Format(time.RFC3339)
	d.MessageHead, d.MessageTail, d.MessageStamp = messageParts(sc.params(h.issuer))
}

var denyReasons = map[string]struct{ heading, message, hint, description string }{
	"not_linked": {
		"Account not linked",
		"This Qortal address is not linked to a Nextcloud account.",
		"Ask your administrator to link your Qortal address to your account, then sign in again.",
		"the Qortal address is not linked to an account",
	},
	"blocked": {
		"Sign-in blocked",
		"This Qortal address has been blocked from signing in.",
		"If you think this is a mistake, contact your administrator.",
		"the Qortal address is blocked",
	},
	// Refusals of the login policy (policy.Service.Admit).
	"not_allowlisted": {
		"New accounts need approval",
		"This Qortal address is not on the list of addresses allowed to create an account here.",
		"Ask your administrator to allowlist your Qortal address or send you an invite.",
		"this Qortal address is not on the list of addresses allowed to create an account here",
	},
	"invite_required": {
		"Invite required",
		"An invite is required to create an account here.",
		"Open the invite link your administrator sent you, or ask for one.",
		"an invite is required to create an account here",
	},
	"invite_invalid": {
		"Invite not valid",
		"This invite link is not valid.",
		"Check that you opened the whole link, or ask your administrator for a new one.",
		"this invite link is not valid",
	},
	"invite_revoked": {
		"Invite revoked",
		"This invite was revoked by an administrator.",
		"Ask your administrator for a new invite.",
		"this invite was revoked by an administrator",
	},
	"invite_expired": {
		"Invite expired",
		"This invite has expired.",
		"Ask your administrator for a new invite.",
		"this invite has expired",
	},
	"invite_used": {
		"Invite already used",
		"This invite was already used.",
		"Each invite works once. Ask your administrator for a new one.",
		"this invite was already used",
	},
	"nextcloud_user_exists": {
		"Account needs an administrator",
		"A Nextcloud account with this Qortal address's user id already exists, but it was not created through this sign-in service, so it is not connected to your address automatically.",
		"If the account is yours, ask your administrator to link it to your Qortal address (or to send you an invite for it). This protects you from accounts set up by someone else in your name.",
		"a Nextcloud account with this address's user id already exists and was not created by this sign-in service; an administrator must link it on purpose",
	},
	"invite_bound_elsewhere": {
		"Invite for another account",
		"This invite cannot be used with this Qortal address.",
		"The invite is for an account that is linked to another address, or your address is linked to another account. Contact your administrator.",
		"the invite and the Qortal address belong to different accounts",
	},
}

// deniedPage explains a refusal and offers to tell the relying party.
func (h *Handler) deniedPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	reason, ok := denyReasons[q.Get("reason")]
	if !ok {
		h.errorPage(r.Context(), w, errInvalid("unknown reason").onPage(
			"This page's link is incomplete",
			"The link that opened this page does not say why the sign-in was refused.",
			"Go back to the app (for example Nextcloud) and start signing in again."))
		return
	}
	ar, e := h.authRequest(r.Context(), q.Get("authRequestID"))
	if e != nil {
		h.errorPage(r.Context(), w, e)
		return
	}
	d := h.basePage(reason.heading)
	d.Heading, d.Message, d.Hint = reason.heading, reason.message, reason.hint
	d.AuthRequestID = ar.ID
	d.ClientName = clientLabel(ar.ClientName, ar.ClientID)
	d.Reason = q.Get("reason")
	d.Action = h.path("/login/denied")
	h.render(r.Context(), w, http.StatusForbidden, "denied.html", d, originOf(ar))
}

// deny ends the auth request with access_denied and returns to the relying party.
func (h *Handler) deny(w http.ResponseWriter, r *http.Request) {
	if crossSite(r) {
		// Only the denied page's own form may end a login: another site
		// must not be able to cancel one for the user.
		h.errorPage(r.Context(), w, newErr(http.StatusForbidden, "cross_site", "this form was sent from another site").onPage(
			"Request refused",
			"This request came from another website, so it was refused to protect your sign-in.",
			"Go back to the app (for example Nextcloud) and start signing in again from there."))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	if err := r.ParseForm(); err != nil {
		h.errorPage(r.Context(), w, errInvalid("malformed form").onPage(
			"The form could not be read",
			"Your browser sent a form that the sign-in service could not read.",
			"Reload the page and try again."))
		return
	}
	reason, ok := denyReasons[r.PostForm.Get("reason")]
	if !ok {
		reason = denyReasons["not_linked"]
	}
	id := r.PostForm.Get("authRequestID")
	if _, e := h.authRequest(r.Context(), id); e != nil {
		h.errorPage(r.Context(), w, e)
		return
	}
	to, err := h.provider.DenyLogin(r.Context(), id, reason.description)
	if err != nil {
		e := h.internal(r.Context(), "deny login", err)
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrAuthRequestDone) {
			e = errSignInExpired("this login request has expired: go back to the app and sign in again")
		}
		h.errorPage(r.Context(), w, e)
		return
	}
	setAPIHeaders(w.Header())
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// crossSite reports a browser request made by another site. The pages send
// Referrer-Policy no-referrer, so a browser's own same-origin form post says
// "Origin: null"; Sec-Fetch-Site is what tells the two apart. Non-browser
// clients send neither header and are let through: they hold the auth
// request id themselves.
func crossSite(r *http.Request) bool {
	site := r.Header.Get("Sec-Fetch-Site")
	return site != "" && site != "same-origin" && site != "none"
}

// originOf is the relying party's origin for the denied page's form-action.
func originOf(ar oidcprovider.AuthRequestInfo) string {
	u, err := url.Parse(ar.RedirectURI)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	// Only host characters may reach the CSP header.
	for _, c := range u.Host {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]", c)) {
			return ""
		}
	}
	return u.Scheme + "://" + u.Host
}
