package qapps

import "testing"

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/app/x/":               "/app/x/",
		"/":                     "/",
		"":                      "/",
		"https://evil.example/": "/",
		"//evil.example/":       "/",
		"/\\evil.example":       "/",
		"/a\r\nSet-Cookie: x":   "/",
		"app/x":                 "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
	if ClientSecret([]byte("k1")) == ClientSecret([]byte("k2")) || len(ClientSecret([]byte("k1"))) != 64 {
		t.Error("client secret must be derived from the key (256 bits)")
	}
}
