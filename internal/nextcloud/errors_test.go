package nextcloud

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestErrorFormatting(t *testing.T) {
	e := &Error{Op: "create_user", Kind: ErrExists, HTTPStatus: 400, OCSStatus: 102, Message: "User already exists"}
	s := e.Error()
	for _, want := range []string{"create_user", "already exists", "HTTP 400", "OCS 102", "User already exists"} {
		if !strings.Contains(s, want) {
			t.Fatalf("%q lacks %q", s, want)
		}
	}
	if !errors.Is(e, ErrExists) || errors.Is(e, ErrNotFound) || e.Unwrap() != ErrExists {
		t.Fatal("kind not unwrapped")
	}
	rl := &Error{Op: "get_user", Kind: ErrRateLimited, HTTPStatus: 429, RetryAfter: 5 * time.Second}
	if !strings.Contains(rl.Error(), "retry after 5s") {
		t.Fatal(rl.Error())
	}
	ce := &Error{Op: "probe", Kind: ErrUnreachable, cause: context.Canceled}
	if !errors.Is(ce, context.Canceled) || !errors.Is(ce, ErrUnreachable) || errors.Is(ce, context.DeadlineExceeded) {
		t.Fatal("cause not visible")
	}
}

func TestOutcome(t *testing.T) {
	cases := map[error]string{
		nil: "ok", ErrExists: "exists", ErrNotFound: "not_found", ErrUnauthorized: "unauthorized",
		ErrUnreachable: "unreachable", ErrRateLimited: "rate_limited", ErrPolicyRejected: "policy_rejected",
		ErrInvalid: "invalid", ErrUnexpected: "error", errors.New("other"): "error",
	}
	for kind, want := range cases {
		var err error
		if kind != nil {
			err = &Error{Op: "x", Kind: kind}
		}
		if got := outcome(err); got != want {
			t.Errorf("%v: got %s want %s", kind, got, want)
		}
	}
}

func TestClean(t *testing.T) {
	got := clean("a\nb\x00 secret-1 "+strings.Repeat("z", 300), "secret-1", "")
	if strings.Contains(got, "secret-1") || strings.ContainsAny(got, "\n\x00") || len([]rune(got)) > maxMessage+1 {
		t.Fatalf("not cleaned: %q", got)
	}
}
