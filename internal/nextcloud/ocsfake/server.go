// Package ocsfake is the project's one reproduction of Nextcloud's OCS
// Provisioning API contract, served over real HTTP on loopback for tests.
//
// Behaviour follows nextcloud/server (provisioning_api UsersController and
// GroupsController, AppFramework OCS V1Response/V2Response, OCSMiddleware,
// SecurityMiddleware, ocs/v1.php, OC_API) and nextcloud/notifications
// (APIController::generateNotification). Where the fake simplifies, the doc
// comment of the relevant method says so.
//
// Deliberate simplifications:
//   - Only format=json (or an Accept header naming application/json) gets
//     JSON; every other request gets a small XML OCS document, as the real
//     server defaults to XML.
//   - The password policy is the strictest built-in password_policy setting
//     (length >= 10, upper, lower, digit, special character), so a client
//     whose passwords pass here passes any default policy.
//   - User ids are case-insensitive, as on a real server: every lookup folds
//     case and answers with the canonical id (the spelling it was created
//     with); creating a case variant of an existing id is 102 "exists".
//   - Rate limiting (SetRateLimited) answers 429 with an empty body like
//     RateLimitingMiddleware, and adds a Retry-After header that real
//     Nextcloud does not send, so clients' parsing of it can be tested.
package ocsfake

import (
	"crypto/subtle"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"
)

// Route names, as accepted by FailNext/FailNextOCS and reported by Requests.
const (
	RouteCurrentUser       = "GET cloud/user"
	RouteListUsers         = "GET cloud/users"
	RouteCreateUser        = "POST cloud/users"
	RouteGetUser           = "GET cloud/users/{id}"
	RouteEditUser          = "PUT cloud/users/{id}"
	RouteEnableUser        = "PUT cloud/users/{id}/enable"
	RouteDisableUser       = "PUT cloud/users/{id}/disable"
	RouteAddToGroup        = "POST cloud/users/{id}/groups"
	RouteCreateGroup       = "POST cloud/groups"
	RouteAdminNotification = "POST apps/notifications/api/{v}/admin_notifications/{id}"
	RouteUnknown           = "unknown"
)

// BackendOIDC is the backend name of users created by user_oidc, whose
// backend cannot set display names (editUser then answers 113).
const BackendOIDC = "user_oidc"

// editLimit and editPeriod mirror editUser's #[UserRateThrottle(limit=50, period=600)].
const (
	editLimit  = 50
	editPeriod = 10 * time.Minute
)

// User is a Nextcloud account as the fake stores it.
type User struct {
	ID          string
	DisplayName string
	Email       string
	Quota       string // "" or "default", "none", or a human size such as "5 GB"
	Language    string
	Groups      []string
	Disabled    bool
	Backend     string // "" means "Database"
	// Password is what the server received, kept so tests can check the
	// client's generated passwords (strength, never leaked).
	Password string
}

// Notification is one admin notification delivered to a user.
type Notification struct {
	Short, Long string
}

type account struct {
	appPassword string
	subadminOf  map[string]bool
	edits       []time.Time
}

type ocsFault struct {
	code    int
	message string
	n       int
}

type httpFault struct {
	status int
	n      int
}

// Server is a running fake Nextcloud. All methods are safe for concurrent use.
type Server struct {
	ts *httptest.Server

	mu              sync.Mutex
	accounts        map[string]*account
	users           map[string]*User
	groups          map[string]bool
	notes           map[string][]Notification
	requests        map[string]int
	creates         int
	httpFaults      map[string]*httpFault
	ocsFaults       map[string]*ocsFault
	rateLimited     bool
	retryAfter      string
	maintenance     bool
	delay           time.Duration
	createDelay     time.Duration
	crashCreates    int
	rejectPasswords bool
	requireEmail    bool
	now             func() time.Time
}

// New starts a fake on a loopback port. Close it when done.
func New() *Server {
	s := &Server{
		accounts:   map[string]*account{},
		users:      map[string]*User{},
		groups:     map[string]bool{"admin": true},
		notes:      map[string][]Notification{},
		requests:   map[string]int{},
		httpFaults: map[string]*httpFault{},
		ocsFaults:  map[string]*ocsFault{},
		retryAfter: "30",
		now:        time.Now,
	}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the base URL of the fake Nextcloud (no trailing slash).
func (s *Server) URL() string { return s.ts.URL }

// Close stops the server and drops open connections.
func (s *Server) Close() {
	s.ts.CloseClientConnections()
	s.ts.Close()
}

// AddAccount registers a user that may authenticate with appPassword. Admins
// are members of the "admin" group, as in Nextcloud.
func (s *Server) AddAccount(user, appPassword string, admin bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accounts[user] = &account{appPassword: appPassword, subadminOf: map[string]bool{}}
	u, ok := s.users[userKey(user)]
	if !ok {
		u = &User{ID: user, DisplayName: user}
		s.users[userKey(user)] = u
	}
	if admin && !contains(u.Groups, "admin") {
		u.Groups = append(u.Groups, "admin")
	}
}

// AddSubAdmin makes account a group administrator of group (created if absent).
func (s *Server) AddSubAdmin(accountUser, group string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[group] = true
	if a, ok := s.accounts[accountUser]; ok {
		a.subadminOf[group] = true
	}
}

// AddUser stores u as an existing account; its groups are created as needed.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := u
	c.Groups = append([]string(nil), u.Groups...)
	for _, g := range c.Groups {
		s.groups[g] = true
	}
	if c.DisplayName == "" {
		c.DisplayName = c.ID
	}
	s.users[userKey(c.ID)] = &c
}

// userKey is the key of s.users: Nextcloud compares user ids without case
// (ids are ASCII), and User.ID keeps the canonical spelling.
func userKey(id string) string { return strings.ToLower(id) }

// lookup finds a user by any spelling of its id.
func (s *Server) lookup(id string) (*User, bool) {
	u, ok := s.users[userKey(id)]
	return u, ok
}

// User returns a copy of the stored user (id in any case).
func (s *Server) User(id string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.lookup(id)
	if !ok {
		return User{}, false
	}
	c := *u
	c.Groups = append([]string(nil), u.Groups...)
	return c, true
}

// Users lists all user ids, sorted.
func (s *Server) Users() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.users))
	for _, u := range s.users {
		ids = append(ids, u.ID)
	}
	sort.Strings(ids)
	return ids
}

// AddGroup creates a group.
func (s *Server) AddGroup(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[name] = true
}

// HasGroup reports whether the group exists.
func (s *Server) HasGroup(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.groups[name]
}

// CreateCount is the number of users created through the API.
func (s *Server) CreateCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.creates
}

// Requests is how many requests reached route (see the Route constants),
// whatever their outcome.
func (s *Server) Requests(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[route]
}

// Notifications returns the admin notifications delivered to userID.
func (s *Server) Notifications(userID string) []Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.lookup(userID); ok {
		userID = u.ID
	}
	return append([]Notification(nil), s.notes[userID]...)
}

// FailNext makes the next n requests to route fail at the HTTP level with
// httpStatus and a non-OCS HTML body, as a proxy or a PHP fatal error would.
func (s *Server) FailNext(route string, httpStatus, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.httpFaults[route] = &httpFault{status: httpStatus, n: n}
}

// FailNextOCS makes the next n authenticated requests to route answer an OCS
// failure with statuscode ocsCode, mapped to HTTP like the real v1/v2 endpoints.
func (s *Server) FailNextOCS(route string, ocsCode int, message string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ocsFaults[route] = &ocsFault{code: ocsCode, message: message, n: n}
}

// SetRateLimited makes every request answer 429 with Retry-After.
func (s *Server) SetRateLimited(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimited = on
}

// SetRetryAfter sets the Retry-After value sent while rate limited ("" for none).
func (s *Server) SetRetryAfter(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retryAfter = v
}

// SetMaintenance mirrors `occ maintenance:mode --on`: every OCS call then
// answers HTTP 503 with OCS status 503 "Service unavailable", before
// authentication, as ocs/vN.php does.
func (s *Server) SetMaintenance(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maintenance = on
}

// SetCreateDelay makes each user creation take d before it answers (the real
// server needs 2-3 s for avatar generation and the password policy), or
// until the client gives up; the user is created either way, as a server
// does not notice a client that left.
func (s *Server) SetCreateDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.createDelay = d
}

// SetDelay delays every response by d (or until the client gives up).
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// CrashAfterCreate makes the next n successful user creations drop the
// connection after the user is stored: the state a crash between Nextcloud
// creating the user and the broker recording it leaves behind.
func (s *Server) CrashAfterCreate(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.crashCreates = n
}

// RejectPasswords makes the password policy reject every password (107), as
// the "compromised passwords" check can.
func (s *Server) RejectPasswords(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejectPasswords = on
}

// RequireEmail mirrors `occ config:app:set core newUser.requireEmail --value=yes`
// (creating a user without email answers 110).
func (s *Server) RequireEmail(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requireEmail = on
}

// authenticate checks Basic credentials; ok=false with present=true means
// credentials were given but are wrong.
func (s *Server) authenticate(r *http.Request) (user string, present, ok bool) {
	u, p, has := r.BasicAuth()
	if !has {
		return "", false, false
	}
	a, known := s.accounts[u]
	if !known {
		// Compare anyway so unknown users cost the same as wrong passwords.
		subtle.ConstantTimeCompare([]byte(p), []byte("x"))
		return "", true, false
	}
	if subtle.ConstantTimeCompare([]byte(p), []byte(a.appPassword)) != 1 {
		return "", true, false
	}
	if usr, ok := s.lookup(u); ok && usr.Disabled {
		return "", true, false
	}
	return u, true, true
}

func (s *Server) isAdmin(uid string) bool {
	u, ok := s.lookup(uid)
	return ok && contains(u.Groups, "admin")
}

// isSubAdminOfGroup mirrors SubAdmin::isSubAdminOfGroup.
func (s *Server) isSubAdminOfGroup(uid, group string) bool {
	a, ok := s.accounts[uid]
	return ok && a.subadminOf[group]
}

// isUserAccessible mirrors SubAdmin::isUserAccessible: a group admin reaches
// members of the groups they administer, but never an admin.
func (s *Server) isUserAccessible(uid string, target *User) bool {
	a, ok := s.accounts[uid]
	if !ok || len(a.subadminOf) == 0 || contains(target.Groups, "admin") {
		return false
	}
	for _, g := range target.Groups {
		if a.subadminOf[g] {
			return true
		}
	}
	return false
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func wantsJSON(r *http.Request) bool {
	if f := r.Form.Get("format"); f != "" {
		return f == "json"
	}
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}
