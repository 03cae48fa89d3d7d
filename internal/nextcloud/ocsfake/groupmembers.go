package ocsfake

import "sort"

// RouteGroupUsers is GroupsController::getGroupUsers.
const RouteGroupUsers = "GET cloud/groups/{id}/users"

// getGroupUsers mirrors GroupsController::getGroupUsers: 404 when the group
// does not exist, 403 unless the viewer is an admin or a sub-admin of the
// group, else {"users": [ids]}. The real server lists members in backend
// order; the fake sorts them so tests are deterministic.
func (s *Server) getGroupUsers(viewer, gid string) reply {
	if !s.groups[gid] {
		return fail(404, "The requested group could not be found")
	}
	if !s.isAdmin(viewer) && !s.isSubAdminOfGroup(viewer, gid) {
		return fail(403, "")
	}
	var ids []string
	for _, u := range s.users {
		if contains(u.Groups, gid) {
			ids = append(ids, u.ID)
		}
	}
	sort.Strings(ids)
	users := make([]any, 0, len(ids))
	for _, id := range ids {
		users = append(users, id)
	}
	return ok(map[string]any{"users": users})
}
