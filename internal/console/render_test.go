package console

import (
	"net/http"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
)

// A failed action is what the admin did; it must not be hidden by a later
// failure to load the page around it.
func TestShowErrorsPrefersTheAction(t *testing.T) {
	action := apierror.BadRequest("invalid_address", "not a Qortal address")
	load := apierror.New(http.StatusServiceUnavailable, "store_unavailable", "the database is unavailable")
	for _, tc := range []struct {
		name         string
		action, load error
		status       int
		code         string
	}{
		{"none", nil, nil, http.StatusOK, ""},
		{"action", action, nil, http.StatusBadRequest, "invalid_address"},
		{"load", nil, load, http.StatusServiceUnavailable, "store_unavailable"},
		{"both", action, load, http.StatusBadRequest, "invalid_address"},
	} {
		var v view
		if got := showErrors(&v, http.StatusOK, tc.action, tc.load); got != tc.status || v.ErrorCode != tc.code {
			t.Errorf("%s: status %d code %q, want %d %q", tc.name, got, v.ErrorCode, tc.status, tc.code)
		}
	}
}
