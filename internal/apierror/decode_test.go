package apierror

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type sample struct {
	Name  string    `json:"name"`
	Count int       `json:"count"`
	When  time.Time `json:"when"`
}

func TestDecodeJSONOneRule(t *testing.T) {
	t.Parallel()
	big := `{"name":"` + strings.Repeat("x", 5<<20) + `"}`
	cases := []struct {
		name, contentType, body string
		limit                   int64
		status                  int
		code                    string
	}{
		{"ok", "application/json", `{"name":"a","count":2}`, 0, 0, ""},
		{"ok with charset", "application/json; charset=UTF-8", `{"name":"a"}`, 0, 0, ""},
		{"no content type", "", `{"name":"a"}`, 0, 415, "unsupported_media_type"},
		{"text/plain", "text/plain", `{"name":"a"}`, 0, 415, "unsupported_media_type"},
		{"form", "application/x-www-form-urlencoded", `name=a`, 0, 415, "unsupported_media_type"},
		{"other charset", "application/json; charset=latin1", `{"name":"a"}`, 0, 415, "unsupported_media_type"},
		{"malformed content type", "application/json; ;", `{}`, 0, 415, "unsupported_media_type"},
		{"5 MB", "application/json", big, 0, 413, "body_too_large"},
		{"just over the limit", "application/json", `{"name":"abcdefgh"}`, 10, 413, "body_too_large"},
		{"not json", "application/json", `{nope`, 0, 400, "invalid_json"},
		{"cut short", "application/json", `{"name":"a"`, 0, 400, "invalid_json"},
		{"trailing object", "application/json", `{"name":"a"} {}`, 0, 400, "invalid_json"},
		{"stray bracket", "application/json", `{"name":"a"}}`, 0, 400, "invalid_json"},
		{"unknown field", "application/json", `{"name":"a","extra":1}`, 0, 400, "unknown_field"},
		{"empty", "application/json", ``, 0, 400, "invalid_request"},
		{"empty without content type", "", ``, 0, 400, "invalid_request"},
		{"array", "application/json", `[]`, 0, 400, "invalid_request"},
		{"wrong type", "application/json", `{"count":"7"}`, 0, 400, "invalid_request"},
		{"bad timestamp", "application/json", `{"when":"yesterday"}`, 0, 400, "invalid_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/api/x", strings.NewReader(c.body))
			if c.contentType != "" {
				r.Header.Set("Content-Type", c.contentType)
			}
			var v sample
			err := DecodeJSON(r, &v, c.limit)
			if c.status == 0 {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if v.Name != "a" {
					t.Fatalf("decoded %+v", v)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
			if e.Status != c.status || e.Code != c.code {
				t.Fatalf("got %d %s (%s), want %d %s", e.Status, e.Code, e.Message, c.status, c.code)
			}
			for _, leak := range []string{"struct", "json:", "time.Time", "main."} {
				if strings.Contains(e.Message, leak) {
					t.Fatalf("message shows Go internals: %q", e.Message)
				}
			}
		})
	}
}

// A chunked body (no Content-Length) over the limit is cut off while
// reading, not buffered whole.
func TestDecodeJSONChunkedTooLarge(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest(http.MethodPost, "/api/x", strings.NewReader(`{"name":"`+strings.Repeat("x", 100)+`"}`))
	r.ContentLength = -1
	r.Header.Set("Content-Type", "application/json")
	var e *Error
	if err := DecodeJSON(r, &sample{}, 50); !errors.As(err, &e) || e.Status != 413 {
		t.Fatalf("got %v, want 413", err)
	}
}

func TestUnknownFieldNamesTheField(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest(http.MethodPost, "/api/x", strings.NewReader(`{"extra":1}`))
	r.Header.Set("Content-Type", "application/json")
	err := DecodeJSON(r, &sample{}, 0)
	if err == nil || !strings.Contains(err.Error(), `"extra"`) {
		t.Fatalf("error %v does not name the field", err)
	}
}
