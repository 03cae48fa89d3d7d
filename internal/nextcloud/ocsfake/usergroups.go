package ocsfake

import "sort"

// RouteUserGroups is UsersController::getUsersGroups.
const RouteUserGroups = "GET cloud/users/{id}/groups"

// getUserGroups mirrors getUsersGroups: the user themself and admins get
// every group; a group admin gets the groups they administer that the user
// is in; anyone else is refused (997, 403 in v2). A missing user is 998.
func (s *Server) getUserGroups(viewer, id string) reply {
	u, found := s.users[id]
	if !found {
		return fail(404, "")
	}
	groups := []string{}
	switch {
	case viewer == id || s.isAdmin(viewer):
		groups = append(groups, u.Groups...)
	default:
		for _, g := range u.Groups {
			if s.isSubAdminOfGroup(viewer, g) {
				groups = append(groups, g)
			}
		}
		if len(groups) == 0 {
			return fail(403, "")
		}
	}
	sort.Strings(groups)
	out := make([]any, 0, len(groups))
	for _, g := range groups {
		out = append(out, g)
	}
	return ok(map[string]any{"groups": out})
}
