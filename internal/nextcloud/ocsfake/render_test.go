package ocsfake

import "testing"

// TestMeta pins the V1Response/V2Response rules the whole fake relies on.
func TestMeta(t *testing.T) {
	cases := []struct {
		status           int
		v1HTTP, v1Code   int
		v2HTTP           int
		v1Status, v2Stat string
	}{
		{200, 200, 100, 200, "ok", "ok"},
		{102, 200, 102, 400, "failure", "failure"},
		{997, 401, 997, 401, "failure", "failure"},
		{998, 200, 998, 404, "failure", "failure"},
		{996, 200, 996, 500, "failure", "failure"},
		{999, 200, 999, 500, "failure", "failure"},
		{403, 200, 403, 403, "failure", "failure"},
		{404, 200, 404, 404, "failure", "failure"},
		{429, 200, 429, 429, "failure", "failure"},
	}
	for _, tc := range cases {
		h1, m1 := meta(1, tc.status, "msg")
		h2, m2 := meta(2, tc.status, "msg")
		if h1 != tc.v1HTTP || m1["statuscode"] != tc.v1Code || m1["status"] != tc.v1Status {
			t.Errorf("v1 %d: HTTP %d meta %v", tc.status, h1, m1)
		}
		if h2 != tc.v2HTTP || m2["statuscode"] != tc.status || m2["status"] != tc.v2Stat {
			t.Errorf("v2 %d: HTTP %d meta %v", tc.status, h2, m2)
		}
		if _, ok := m1["totalitems"]; !ok {
			t.Errorf("v1 meta lacks totalitems")
		}
		if _, ok := m2["totalitems"]; ok {
			t.Errorf("v2 meta has totalitems")
		}
	}
}

func TestRenderXML(t *testing.T) {
	got := string(renderXML(map[string]any{"ocs": map[string]any{"data": []any{"a", nil}, "meta": map[string]any{"ok": true}}}))
	want := "<?xml version=\"1.0\"?>\n<ocs><data><element>a</element><element/></data><meta><ok>1</ok></meta></ocs>"
	if got != want {
		t.Fatalf("got %s", got)
	}
}
