package qapps

import "testing"

func TestNodeAllowlist(t *testing.T) {
	for path, want := range map[string]bool{
		"/names/Alice":                             true,
		"/names/address/QaBc":                      true,
		"/names/search":                            true,
		"/addresses/QaBc":                          true,
		"/addresses/balance/QaBc":                  true,
		"/arbitrary/resources/search":              true,
		"/arbitrary/resource/status/APP/Q-Mail":    true,
		"/arbitrary/metadata/APP/Q-Mail/default":   true,
		"/arbitrary/THUMBNAIL/Alice/avatar":        true,
		"/admin/stop":                              false,
		"/admin/apikey/generate":                   false,
		"/peers":                                   false,
		"/lists/blockedAddresses":                  false,
		"/addresses/online":                        false,
		"/names/register":                          false,
		"/arbitrary/hosted/transactions":           false,
		"/arbitrary/APP/x/../../admin":             false,
		"/render/APP/Q-Mail":                       false,
		"/transactions/process":                    false,
		"/crosschain/tradebot":                     false,
		"/arbitrary/resource/status/APP/a/b/extra": false,
	} {
		if got := allowedNodePath(path); got != want {
			t.Errorf("allowedNodePath(%s) = %v, want %v", path, got, want)
		}
	}
}

func TestReadOnlyActionsBuildAllowedPaths(t *testing.T) {
	for action, r := range map[string]request{
		"GET_ACCOUNT_DATA":            {"address": "QaBc"},
		"GET_ACCOUNT_NAMES":           {"address": "QaBc"},
		"GET_NAME_DATA":               {"name": "Alice"},
		"GET_BALANCE":                 {"address": "QaBc"},
		"SEARCH_NAMES":                {"query": "al", "limit": float64(5)},
		"LIST_QDN_RESOURCES":          {"service": "APP"},
		"SEARCH_QDN_RESOURCES":        {"service": "APP", "names": []any{"a", "b"}},
		"GET_QDN_RESOURCE_STATUS":     {"service": "APP", "name": "Q-Mail"},
		"GET_QDN_RESOURCE_PROPERTIES": {"service": "APP", "name": "Q-Mail"},
		"GET_QDN_RESOURCE_METADATA":   {"service": "APP", "name": "Q-Mail"},
		"FETCH_QDN_RESOURCE":          {"service": "THUMBNAIL", "name": "Alice", "identifier": "avatar"},
	} {
		p, _, err := readOnlyActions[action](r)
		if err != nil || !allowedNodePath(p) {
			t.Errorf("%s -> %q, %v: not an allowed path", action, p, err)
		}
	}
	// A name with a slash stays one segment and cannot climb out.
	p, _, _ := readOnlyActions["GET_NAME_DATA"](request{"name": "../admin/stop"})
	if p != "/names/..%2Fadmin%2Fstop" || allowedNodePath(p) {
		t.Errorf("GET_NAME_DATA with a slash -> %q (allowed %v)", p, allowedNodePath(p))
	}
	if _, _, err := readOnlyActions["GET_NAME_DATA"](request{}); err == nil {
		t.Error("missing name accepted")
	}
	for a, want := range map[string]actionKind{"GET_USER_ACCOUNT": kindAccount, "GET_NAME_DATA": kindReadOnly,
		"SEND_COIN": kindSigning, "SIGN_TRANSACTION": kindSigning, "GET_WALLET_BALANCE": kindUnknown, "": kindUnknown} {
		if got := classify(a); got != want {
			t.Errorf("classify(%s) = %v, want %v", a, got, want)
		}
	}
}
