package smtptest

import (
	"net/smtp"
	"strings"
	"testing"
)

// The server must speak enough SMTP for the standard library client, and
// refuse what a real relay refuses.
func TestStandardClientOverStartTLS(t *testing.T) {
	srv := New(t, Options{Username: "u", Password: "p"})
	c, err := smtp.Dial(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("a@example.org"); err == nil || !strings.Contains(err.Error(), "530") {
		t.Fatalf("MAIL before STARTTLS = %v, want 530", err)
	}
	if err := c.StartTLS(srv.TLSConfig()); err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(smtp.PlainAuth("", "u", "p", srv.Host)); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("a@example.org"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("b@example.org"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("Subject: hi\r\n\r\n.dot first\r\nend\r\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_ = c.Quit()

	bad, err := smtp.Dial(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if err := bad.StartTLS(srv.TLSConfig()); err != nil {
		t.Fatal(err)
	}
	if err := bad.Auth(smtp.PlainAuth("", "u", "wrong", srv.Host)); err == nil || srv.AuthFailures() != 1 {
		t.Fatalf("wrong password accepted (%v, %d failures)", err, srv.AuthFailures())
	}
	m := srv.Messages()
	if len(m) != 1 || m[0].Subject != "hi" || m[0].Body != ".dot first\nend\n" || !m[0].TLS || m[0].AuthUser != "u" {
		t.Fatalf("recorded %+v", m)
	}
}
