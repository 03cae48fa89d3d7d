package ocsfake

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// nullData renders as JSON null (DataResponse(null, ...)).
type nullData struct{}

// userData mirrors AUserData::getUserData; nil means "no permission".
func (s *Server) userData(viewer string, u *User) map[string]any {
	d := map[string]any{}
	admin := s.isAdmin(viewer)
	if admin || s.isUserAccessible(viewer, u) {
		d["enabled"] = !u.Disabled
	} else if viewer != u.ID {
		return nil
	}
	if admin {
		d["storageLocation"] = "/var/www/html/data/" + u.ID
	}
	backend := u.Backend
	if backend == "" {
		backend = "Database"
	}
	var email any
	if u.Email != "" {
		email = u.Email
	}
	lang := u.Language
	if lang == "" {
		lang = "en"
	}
	var subadmin []any
	if a, ok := s.accounts[u.ID]; ok {
		for g := range a.subadminOf {
			subadmin = append(subadmin, g)
		}
	}
	groups := make([]any, 0, len(u.Groups))
	for _, g := range u.Groups {
		groups = append(groups, g)
	}
	d["id"] = u.ID
	d["lastLogin"] = 0
	d["backend"] = backend
	d["subadmin"] = nonNil(subadmin)
	d["quota"] = map[string]any{"free": 0, "used": 0, "total": 0, "relative": 0, "quota": quotaBytes(u.Quota)}
	d["manager"] = ""
	d["email"] = email
	d["additional_mail"] = []any{}
	d["displayname"] = u.DisplayName
	d["display-name"] = u.DisplayName
	for _, k := range []string{"phone", "address", "website", "twitter", "fediverse", "organisation", "role", "headline", "biography"} {
		d[k] = ""
	}
	d["profile_enabled"] = "1"
	d["groups"] = groups
	d["language"] = lang
	d["locale"] = ""
	d["notify_email"] = nil
	d["backendCapabilities"] = map[string]any{"setDisplayName": canSetDisplayName(u), "setPassword": backend == "Database"}
	return d
}

func nonNil(v []any) []any {
	if v == nil {
		return []any{}
	}
	return v
}

func canSetDisplayName(u *User) bool { return u.Backend != BackendOIDC }

// getCurrentUser mirrors UsersController::getCurrentUser (route cloud/user).
func (s *Server) getCurrentUser(viewer string) reply {
	u, found := s.lookup(viewer)
	if !found {
		return fail(codeUnauthorised, "")
	}
	return ok(s.userData(viewer, u))
}

// getUser mirrors UsersController::getUser: a missing user is
// OCSNotFoundException (404), an unreachable one 998.
func (s *Server) getUser(viewer, id string) reply {
	u, found := s.lookup(id)
	if !found {
		return fail(http.StatusNotFound, "User does not exist")
	}
	d := s.userData(viewer, u)
	if d == nil {
		return fail(codeNotFound, "")
	}
	return ok(d)
}

// getUsers mirrors UsersController::getUsers (admins search everyone, group
// admins their groups, others get nothing).
func (s *Server) getUsers(viewer string, form url.Values) reply {
	search := strings.ToLower(form.Get("search"))
	limit := -1
	if v := form.Get("limit"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			limit = n
		}
	}
	offset, _ := strconv.Atoi(form.Get("offset"))
	matches := func(u *User) bool {
		return search == "" || strings.Contains(strings.ToLower(u.ID), search) ||
			strings.Contains(strings.ToLower(u.DisplayName), search) ||
			strings.Contains(strings.ToLower(u.Email), search)
	}
	page := func(ids []string) []string {
		sort.Slice(ids, func(i, j int) bool { return strings.ToLower(ids[i]) < strings.ToLower(ids[j]) })
		if offset > len(ids) {
			return nil
		}
		ids = ids[offset:]
		if limit >= 0 && limit < len(ids) {
			ids = ids[:limit]
		}
		return ids
	}
	var out []string
	if s.isAdmin(viewer) {
		var ids []string
		for _, u := range s.users {
			if matches(u) {
				ids = append(ids, u.ID)
			}
		}
		out = page(ids)
	} else if a := s.accounts[viewer]; a != nil && len(a.subadminOf) > 0 {
		seen := map[string]bool{}
		for g := range a.subadminOf {
			var ids []string
			for _, u := range s.users {
				if contains(u.Groups, g) && matches(u) {
					ids = append(ids, u.ID)
				}
			}
			for _, id := range page(ids) {
				if !seen[id] {
					seen[id] = true
					out = append(out, id)
				}
			}
		}
	}
	users := make([]any, 0, len(out))
	for _, id := range out {
		users = append(users, id)
	}
	return ok(map[string]any{"users": users})
}

func formList(form url.Values, name string) []string {
	return append(append([]string(nil), form[name+"[]"]...), form[name]...)
}

// addUser mirrors UsersController::addUser, including its quirk that an
// invalid quota or language fails with 102 after the user was created.
func (s *Server) addUser(viewer string, form url.Values) reply {
	uid := form.Get("userid")
	password := form.Get("password")
	email := form.Get("email")
	groups := formList(form, "groups")
	admin := s.isAdmin(viewer)

	if _, exists := s.lookup(uid); exists {
		return fail(102, "User already exists")
	}
	if len(groups) > 0 {
		for _, g := range groups {
			if !s.groups[g] {
				// Seen on Nextcloud 30: the whole create fails, no user is made.
				return fail(104, "Group "+g+" does not exist")
			}
			if !admin && !s.isSubAdminOfGroup(viewer, g) {
				return fail(105, "insufficient privileges for group "+g)
			}
		}
	} else if !admin {
		return fail(106, "no group specified (required for subadmins)")
	}
	if len(password) > maxPasswordLength {
		return fail(101, "Invalid password value")
	}
	generated := false
	if password == "" {
		if email == "" {
			return fail(108, "To send a password link to the user an email address is required.")
		}
		password, generated = "generated-Aa1!", true
	}
	if email == "" && s.requireEmail {
		return fail(110, "Required email address was not provided")
	}
	if msg, valid := validateUserID(uid); !valid {
		return fail(101, msg)
	}
	if s.rejectPasswords && !generated {
		return fail(107, "Password is present in compromised password list. Please choose a different password.")
	}
	if hint, valid := passwordPolicyHint(password); !valid && !generated {
		return fail(107, hint)
	}

	u := &User{ID: uid, DisplayName: uid, Password: password}
	s.users[userKey(uid)] = u
	s.creates++
	for _, g := range groups {
		u.Groups = append(u.Groups, g)
	}
	if dn := form.Get("displayName"); dn != "" {
		u.DisplayName = dn
	}
	if q := form.Get("quota"); q != "" {
		if rep := s.setQuota(u, q); rep.status != http.StatusOK {
			return rep
		}
	}
	if l := form.Get("language"); l != "" {
		if !languages[l] {
			return fail(102, "Invalid language")
		}
		u.Language = l
	}
	u.Email = email
	return ok(map[string]any{"id": uid})
}

func (s *Server) setQuota(u *User, value string) reply {
	if value == "none" || value == "default" {
		u.Quota = value
		return ok(nil)
	}
	b, valid := computerFileSize(value)
	if !valid {
		return fail(102, "Invalid quota value "+value)
	}
	if b == -1 {
		u.Quota = "none"
	} else {
		u.Quota = humanFileSize(b)
	}
	return ok(nil)
}

var otherEditable = []string{"additional_mail", "phone", "address", "website", "twitter", "fediverse",
	"organisation", "role", "headline", "biography", "profile_enabled", "notify_email", "manager", "locale"}

// editUser mirrors UsersController::editUser for the keys the broker uses.
func (s *Server) editUser(viewer, id, key, value string) reply {
	u, exists := s.lookup(id)
	if !exists {
		return fail(codeNotFound, "")
	}
	var permitted []string
	if u.ID == viewer || s.isAdmin(viewer) || s.isUserAccessible(viewer, u) {
		if canSetDisplayName(u) {
			permitted = append(permitted, "display", "displayname")
		}
		permitted = append(permitted, "email", "password", "language")
		permitted = append(permitted, otherEditable...)
		if u.ID != viewer || s.isAdmin(viewer) {
			permitted = append(permitted, "quota")
		}
	} else {
		return fail(codeNotFound, "")
	}
	if !contains(permitted, key) {
		return fail(113, "")
	}
	switch key {
	case "display", "displayname":
		u.DisplayName = value
	case "quota":
		return s.setQuota(u, value)
	case "password":
		if len(value) > maxPasswordLength {
			return fail(102, "Invalid password value")
		}
		if s.rejectPasswords {
			return fail(107, "Password is present in compromised password list. Please choose a different password.")
		}
		if hint, valid := passwordPolicyHint(value); !valid {
			return fail(107, hint)
		}
		u.Password = value
	case "language":
		if !languages[value] && value != "en" {
			return fail(102, "Invalid language")
		}
		u.Language = value
	case "locale":
		if !localePattern.MatchString(value) {
			return fail(102, "Invalid locale")
		}
	case "email":
		if value != "" && !emailPattern.MatchString(value) {
			return fail(101, "")
		}
		u.Email = value
	}
	return ok(nil)
}

// setEnabled mirrors UsersController::setEnabled: a missing target, or the
// caller itself, is 101.
func (s *Server) setEnabled(viewer, id string, enabled bool) reply {
	u, exists := s.lookup(id)
	if !exists || strings.EqualFold(id, viewer) {
		return fail(101, "")
	}
	if !s.isAdmin(viewer) && !s.isUserAccessible(viewer, u) {
		return fail(codeNotFound, "")
	}
	u.Disabled = !enabled
	return ok(nil)
}
