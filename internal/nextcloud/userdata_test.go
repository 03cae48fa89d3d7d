package nextcloud

import (
	"encoding/json"
	"testing"
)

func TestParseUser(t *testing.T) {
	cases := []struct {
		data string
		want User
	}{
		{`{"id":"a","displayname":"A","email":null,"groups":[],"quota":[]}`,
			User{ID: "a", DisplayName: "A", Groups: []string{}, Enabled: true}},
		{`{"id":"a","display-name":"Legacy","email":"a@x.org","enabled":false,"groups":{"0":"g1","2":"g2"},"quota":{"quota":5.36870912E9}}`,
			User{ID: "a", DisplayName: "Legacy", Email: "a@x.org", Groups: []string{"g1", "g2"}, Quota: "5368709120"}},
		{`{"id":"a","enabled":true,"quota":{"quota":"none","used":0}}`,
			User{ID: "a", Groups: []string{}, Enabled: true, Quota: "none"}},
		{`{"id":"a","quota":{"quota":-3}}`, User{ID: "a", Groups: []string{}, Enabled: true, Quota: "none"}},
	}
	for _, tc := range cases {
		got, err := parseUser("get_user", json.RawMessage(tc.data))
		if err != nil {
			t.Fatalf("%s: %v", tc.data, err)
		}
		if got.ID != tc.want.ID || got.DisplayName != tc.want.DisplayName || got.Email != tc.want.Email ||
			got.Enabled != tc.want.Enabled || got.Quota != tc.want.Quota || len(got.Groups) != len(tc.want.Groups) {
			t.Fatalf("%s:\n got %+v\nwant %+v", tc.data, got, tc.want)
		}
		for i := range got.Groups {
			if got.Groups[i] != tc.want.Groups[i] {
				t.Fatalf("groups %v", got.Groups)
			}
		}
	}
	for _, bad := range []string{`[]`, `{"displayname":"no id"}`, `{"id":"a","groups":[1,2]}`, `null`} {
		if _, err := parseUser("get_user", json.RawMessage(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
