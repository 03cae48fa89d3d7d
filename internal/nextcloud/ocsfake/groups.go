package ocsfake

import "net/http"

// addToGroup mirrors UsersController::addToGroup: 101 no group id, 102 group
// missing, 103 user missing, 104 not allowed for this group.
func (s *Server) addToGroup(viewer, id, gid string) reply {
	if gid == "" {
		return fail(101, "")
	}
	u, userExists := s.lookup(id)
	if !s.groups[gid] {
		return fail(102, "")
	}
	if !userExists {
		return fail(103, "")
	}
	if !s.isAdmin(viewer) && !s.isSubAdminOfGroup(viewer, gid) {
		return fail(104, "")
	}
	if !contains(u.Groups, gid) {
		u.Groups = append(u.Groups, gid)
	}
	return ok(nil)
}

// addGroup mirrors GroupsController::addGroup (admin-only via the pipeline).
func (s *Server) addGroup(gid string) reply {
	if gid == "" {
		return fail(101, "Invalid group name")
	}
	if s.groups[gid] {
		return fail(102, "group exists")
	}
	s.groups[gid] = true
	return ok(nil)
}

// generateNotification mirrors the notifications app's APIController
// generateNotification (api v1/v2): failures carry null data and an HTTP code.
func (s *Server) generateNotification(id, short, long string) reply {
	u, exists := s.lookup(id)
	if !exists {
		return reply{status: http.StatusNotFound, data: nullData{}}
	}
	id = u.ID
	if short == "" || len(short) > 255 || len(long) > 4000 {
		return reply{status: http.StatusBadRequest, data: nullData{}}
	}
	s.notes[id] = append(s.notes[id], Notification{Short: short, Long: long})
	return ok(nil)
}
