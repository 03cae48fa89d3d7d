package nextcloud

import (
	"net/http"
	"testing"
	"time"
)

func TestDecode(t *testing.T) {
	cases := []struct {
		body string
		ok   bool
		code int
		msg  string
	}{
		{`{"ocs":{"meta":{"status":"ok","statuscode":100,"message":"OK","totalitems":"","itemsperpage":""},"data":[]}}`, true, 100, "OK"},
		{`{"ocs":{"meta":{"status":"failure","statuscode":"102","message":null},"data":[]}}`, true, 102, ""},
		{`{"ocs":{"data":[]}}`, false, 0, ""},
		{`{"message":"CSRF check failed"}`, false, 0, ""},
		{`<?xml version="1.0"?><ocs/>`, false, 0, ""},
		{``, false, 0, ""},
	}
	for _, tc := range cases {
		env, ok := decode([]byte(tc.body))
		if ok != tc.ok || (ok && (env.Meta.StatusCode != tc.code || env.Meta.Message != tc.msg)) {
			t.Errorf("%s: ok=%v env=%+v", tc.body, ok, env)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	if d := retryAfter("30"); d != 30*time.Second {
		t.Fatal(d)
	}
	if d := retryAfter(""); d != 0 {
		t.Fatal(d)
	}
	if d := retryAfter("soon"); d != 0 {
		t.Fatal(d)
	}
	future := time.Now().Add(2 * time.Minute).UTC().Format(http.TimeFormat)
	if d := retryAfter(future); d < 100*time.Second || d > 2*time.Minute {
		t.Fatal(d)
	}
}
