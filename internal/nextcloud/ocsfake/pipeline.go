package ocsfake

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// route is a matched OCS route with its path parameters.
type route struct {
	name       string
	id         string // user id path parameter, unescaped
	adminOnly  bool   // no NoAdminRequired annotation on the controller method
	apiVersion string // notifications api version segment
}

// match resolves the path after /ocs/vN.php. ok=false with methodMismatch
// means the path exists for another verb (the router's 405).
func match(method string, segs []string) (r route, ok, methodMismatch bool) {
	want := func(m string, rt route) (route, bool, bool) {
		if method != m {
			return route{}, false, true
		}
		return rt, true, false
	}
	switch {
	case len(segs) == 2 && segs[0] == "cloud" && segs[1] == "user":
		return want(http.MethodGet, route{name: RouteCurrentUser})
	case len(segs) == 2 && segs[0] == "cloud" && segs[1] == "users":
		if method == http.MethodPost {
			return route{name: RouteCreateUser}, true, false
		}
		return want(http.MethodGet, route{name: RouteListUsers})
	case len(segs) == 3 && segs[0] == "cloud" && segs[1] == "users":
		if method == http.MethodPut {
			return route{name: RouteEditUser, id: segs[2]}, true, false
		}
		return want(http.MethodGet, route{name: RouteGetUser, id: segs[2]})
	case len(segs) == 4 && segs[0] == "cloud" && segs[1] == "users" && segs[3] == "enable":
		return want(http.MethodPut, route{name: RouteEnableUser, id: segs[2]})
	case len(segs) == 4 && segs[0] == "cloud" && segs[1] == "users" && segs[3] == "disable":
		return want(http.MethodPut, route{name: RouteDisableUser, id: segs[2]})
	case len(segs) == 4 && segs[0] == "cloud" && segs[1] == "users" && segs[3] == "groups":
		if method == http.MethodGet {
			return route{name: RouteUserGroups, id: segs[2]}, true, false
		}
		return want(http.MethodPost, route{name: RouteAddToGroup, id: segs[2]})
	case len(segs) == 4 && segs[0] == "cloud" && segs[1] == "groups" && segs[3] == "users":
		return want(http.MethodGet, route{name: RouteGroupUsers, id: segs[2]})
	case len(segs) == 2 && segs[0] == "cloud" && segs[1] == "groups":
		// addGroup carries #[AuthorizedAdminSetting(settings: Users::class)].
		return want(http.MethodPost, route{name: RouteCreateGroup, adminOnly: true})
	case len(segs) == 6 && segs[0] == "apps" && segs[1] == "notifications" && segs[2] == "api" &&
		(segs[3] == "v1" || segs[3] == "v2") && segs[4] == "admin_notifications":
		return want(http.MethodPost, route{name: RouteAdminNotification, id: segs[5], adminOnly: true, apiVersion: segs[3]})
	}
	return route{}, false, false
}

// splitOCSPath returns the OCS version and the unescaped path segments.
func splitOCSPath(u *url.URL) (version int, segs []string, ok bool) {
	p := u.EscapedPath()
	switch {
	case strings.HasPrefix(p, "/ocs/v1.php/"):
		version, p = 1, strings.TrimPrefix(p, "/ocs/v1.php/")
	case strings.HasPrefix(p, "/ocs/v2.php/"):
		version, p = 2, strings.TrimPrefix(p, "/ocs/v2.php/")
	default:
		return 0, nil, false
	}
	for _, raw := range strings.Split(strings.Trim(p, "/"), "/") {
		seg, err := url.PathUnescape(raw)
		if err != nil {
			return 0, nil, false
		}
		segs = append(segs, seg)
	}
	return version, segs, true
}

// serve runs a request through the same gates, in the same order, as
// ocs/vN.php and the AppFramework middlewares.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	version, segs, isOCS := splitOCSPath(r.URL)
	if !isOCS {
		http.NotFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	asJSON := wantsJSON(r)
	rt, matched, wrongMethod := match(r.Method, segs)
	name := RouteUnknown
	if matched {
		name = rt.name
	}

	s.mu.Lock()
	s.requests[name]++
	delay := s.delay
	s.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	if s.maintenance {
		// ocs/vN.php: ApiHelper::respond(503, 'Service unavailable'), the
		// HTTP status being the OCS one in v1 too.
		writeOCSStatus(w, version, asJSON, fail(http.StatusServiceUnavailable, "Service unavailable"), http.StatusServiceUnavailable)
		return
	}
	if s.rateLimited {
		if s.retryAfter != "" {
			w.Header().Set("Retry-After", s.retryAfter)
		}
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	if f := s.httpFaults[name]; f != nil && f.n > 0 {
		f.n--
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(f.status)
		_, _ = w.Write([]byte("<html><head><title>" + http.StatusText(f.status) +
			"</title></head><body><h1>" + http.StatusText(f.status) + "</h1><hr>nginx</body></html>\n"))
		return
	}

	// lib/base.php handleLogin: wrong Basic credentials throw LoginException,
	// answered by ocs/vN.php as 997 "Unauthorised" in the default format (XML).
	uid, present, authed := s.authenticate(r)
	if present && !authed {
		w.Header().Set("WWW-Authenticate", `Basic realm="Authorisation Required"`)
		writeOCS(w, version, false, fail(codeUnauthorised, "Unauthorised"))
		return
	}
	if !matched {
		if wrongMethod {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		writeOCS(w, version, asJSON, fail(codeNotFound, "Invalid query, please check the syntax. "+
			"API specifications are here: http://www.freedesktop.org/wiki/Specifications/open-collaboration-services.\n"))
		return
	}
	// SecurityMiddleware: login, then admin, then CSRF; OCSMiddleware turns
	// the 401/403 JSON responses into OCS ones, but not the 412.
	if !authed {
		writeOCS(w, version, asJSON, fail(codeUnauthorised, "Current user is not logged in"))
		return
	}
	if rt.adminOnly && !s.isAdmin(uid) {
		writeOCS(w, version, asJSON, fail(http.StatusForbidden, "Logged in account must be an admin"))
		return
	}
	if r.Header.Get("OCS-APIRequest") != "true" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusPreconditionFailed)
		_, _ = w.Write([]byte(`{"message":"CSRF check failed"}`))
		return
	}
	if f := s.ocsFaults[name]; f != nil && f.n > 0 {
		f.n--
		writeOCS(w, version, asJSON, fail(f.code, f.message))
		return
	}

	var rep reply
	switch rt.name {
	case RouteCurrentUser:
		rep = s.getCurrentUser(uid)
	case RouteListUsers:
		rep = s.getUsers(uid, r.Form)
	case RouteCreateUser:
		rep = s.addUser(uid, r.Form)
		if d := s.createDelay; d > 0 && rep.status == http.StatusOK {
			s.mu.Unlock()
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
			}
			s.mu.Lock()
		}
		if rep.status == http.StatusOK && s.crashCreates > 0 {
			s.crashCreates--
			dropConnection(w)
			return
		}
	case RouteGetUser:
		rep = s.getUser(uid, rt.id)
	case RouteEditUser:
		if s.editThrottled(uid) {
			// RateLimitingMiddleware answers a bare DataResponse([], 429).
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		rep = s.editUser(uid, rt.id, r.Form.Get("key"), r.Form.Get("value"))
	case RouteEnableUser:
		rep = s.setEnabled(uid, rt.id, true)
	case RouteDisableUser:
		rep = s.setEnabled(uid, rt.id, false)
	case RouteAddToGroup:
		rep = s.addToGroup(uid, rt.id, r.Form.Get("groupid"))
	case RouteCreateGroup:
		rep = s.addGroup(r.Form.Get("groupid"))
	case RouteGroupUsers:
		rep = s.getGroupUsers(uid, rt.id)
	case RouteUserGroups:
		rep = s.getUserGroups(uid, rt.id)
	case RouteAdminNotification:
		rep = s.generateNotification(rt.id, r.Form.Get("shortMessage"), r.Form.Get("longMessage"))
	}
	writeOCS(w, version, asJSON, rep)
}

// editThrottled counts editUser calls per authenticated user over editPeriod.
func (s *Server) editThrottled(uid string) bool {
	a := s.accounts[uid]
	now := s.now()
	kept := a.edits[:0]
	for _, t := range a.edits {
		if now.Sub(t) < editPeriod {
			kept = append(kept, t)
		}
	}
	a.edits = kept
	if len(a.edits) >= editLimit {
		return true
	}
	a.edits = append(a.edits, now)
	return false
}

// dropConnection closes the TCP connection without writing a response.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	_ = conn.Close()
}
