package mail

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/mail/smtptest"
)

func sender(t *testing.T, srv *smtptest.Server, mode, user, pass string) *Sender {
	t.Helper()
	s, err := New(Config{Host: srv.Host, Port: srv.Port, Username: user, Password: pass, TLS: mode,
		From: "Cloud <noreply@cloud.example>", Timeout: 5 * time.Second, TLSConfig: srv.TLSConfig()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDeliversOverEveryTLSMode(t *testing.T) {
	for _, mode := range []string{TLSStartTLS, TLSImplicit, TLSNone} {
		t.Run(mode, func(t *testing.T) {
			srv := smtptest.New(t, smtptest.Options{TLS: mode, Username: "relay", Password: "s3cret-relay-pw"})
			body := "Hello Zoë,\n.a line that starts with a dot\nlink: https://id.example/onboard/abc?x=1&y=2\n" + strings.Repeat("long ", 40) + "\n"
			err := sender(t, srv, mode, "relay", "s3cret-relay-pw").Send(t.Context(),
				Message{To: "zoe@example.org", Subject: "Bienvenue à Qortal", Body: body})
			if err != nil {
				t.Fatal(err)
			}
			msgs := srv.Messages()
			if len(msgs) != 1 {
				t.Fatalf("%d messages, want 1", len(msgs))
			}
			m := msgs[0]
			if m.From != "noreply@cloud.example" || len(m.To) != 1 || m.To[0] != "zoe@example.org" || m.AuthUser != "relay" {
				t.Errorf("envelope = from %q to %v auth %q", m.From, m.To, m.AuthUser)
			}
			if m.TLS != (mode != TLSNone) {
				t.Errorf("session TLS = %v in mode %s", m.TLS, mode)
			}
			if m.Subject != "Bienvenue à Qortal" || m.Header.Get("To") != "<zoe@example.org>" {
				t.Errorf("headers: subject %q to %q", m.Subject, m.Header.Get("To"))
			}
			if m.Body != body {
				t.Errorf("body round trip:\n got %q\nwant %q", m.Body, body)
			}
			if !strings.HasPrefix(m.Header.Get("Content-Type"), "text/plain") || m.Header.Get("Message-Id") == "" {
				t.Errorf("headers %v", m.Header)
			}
		})
	}
}

func TestFailuresAreReportedWithoutThePassword(t *testing.T) {
	const pw = "the-smtp-password-123"
	cases := []struct {
		name string
		srv  smtptest.Options
		mode string
		pass string
		cfg  func(*Config)
		to   string
		want string
	}{
		{"wrong password", smtptest.Options{Username: "relay", Password: "other"}, TLSStartTLS, pw, nil, "a@example.org", "535"},
		{"no STARTTLS offered", smtptest.Options{TLS: "none"}, TLSStartTLS, "", nil, "a@example.org", "does not offer STARTTLS"},
		{"untrusted certificate", smtptest.Options{}, TLSStartTLS, "", func(c *Config) { c.TLSConfig = &tls.Config{} }, "a@example.org", "certificate"},
		{"recipient refused", smtptest.Options{RejectRcpt: []string{"gone@example.org"}}, TLSStartTLS, "", nil, "gone@example.org", "550"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := smtptest.New(t, tc.srv)
			user := ""
			if tc.pass != "" {
				user = "relay"
			}
			cfg := Config{Host: srv.Host, Port: srv.Port, Username: user, Password: tc.pass, TLS: tc.mode,
				From: "noreply@cloud.example", Timeout: 5 * time.Second, TLSConfig: srv.TLSConfig()}
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			s, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(t.Context(), Message{To: tc.to, Subject: "s", Body: "b"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
			if strings.Contains(err.Error(), pw) || strings.Contains(cfg.String(), pw) {
				t.Fatalf("the password leaked: %v / %s", err, cfg)
			}
			if len(srv.Messages()) != 0 {
				t.Fatal("nothing may be delivered on failure")
			}
		})
	}
}

func TestRejectsHeaderInjectionBeforeConnecting(t *testing.T) {
	s, err := New(Config{Host: "127.0.0.1", Port: 1, From: "noreply@cloud.example"})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []Message{
		{To: "a@example.org\r\nBcc: all@example.org", Subject: "s"},
		{To: "Name <a@example.org>", Subject: "s"},
		{To: "a@example.org", Subject: "s\r\nBcc: all@example.org"},
	} {
		err := s.Send(t.Context(), m)
		if err == nil || strings.Contains(err.Error(), "connect") {
			t.Errorf("Send(%q, %q) = %v, want a validation error", m.To, m.Subject, err)
		}
	}
}

func TestCancelledContextAborts(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := sender(t, srv, TLSStartTLS, "", "").Send(ctx, Message{To: "a@example.org", Subject: "s", Body: "b"}); err == nil {
		t.Fatal("a cancelled send must fail")
	}
	if len(srv.Messages()) != 0 {
		t.Fatal("nothing may be delivered")
	}
}

func TestNewValidates(t *testing.T) {
	for _, c := range []Config{
		{Port: 25, From: "a@b.example"},
		{Host: "h", Port: 0, From: "a@b.example"},
		{Host: "h", Port: 25, From: "not an address"},
		{Host: "h", Port: 25, From: "a@b.example", TLS: "ssl3"},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%s) accepted", c)
		}
	}
}

func TestCancelAbortsAConversationInFlight(t *testing.T) {
	// A relay that greets and then never answers EHLO: only ctx can end it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	closed := make(chan struct{})
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = c.Write([]byte("220 stuck.example ESMTP\r\n"))
		_, _ = io.Copy(io.Discard, c) // returns once the client closes
		close(closed)
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	s, err := New(Config{Host: "127.0.0.1", Port: port, TLS: TLSNone, From: "noreply@cloud.example", Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := s.Send(ctx, Message{To: "a@example.org", Subject: "s", Body: "b"}); err == nil {
		t.Fatal("Send against a stuck relay succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Send took %s after its context ended", d)
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the connection to the relay was left open")
	}
}

func TestHeadersNameNoSoftwareAndMarkAutoSubmitted(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{})
	if err := sender(t, srv, TLSStartTLS, "", "").Send(t.Context(), Message{To: "a@example.org", Subject: "s", Body: "b"}); err != nil {
		t.Fatal(err)
	}
	m := srv.Messages()[0]
	for _, h := range []string{"User-Agent", "X-Mailer"} {
		if v := m.Header.Get(h); v != "" {
			t.Errorf("%s: %q, want none", h, v)
		}
	}
	if m.Header.Get("Auto-Submitted") != "auto-generated" || !strings.HasSuffix(m.Header.Get("Message-Id"), "@cloud.example>") ||
		m.Header.Get("Date") == "" || m.Header.Get("From") != `"Cloud" <noreply@cloud.example>` {
		t.Errorf("headers %v", m.Header)
	}
}
