// Package mail sends plain-text e-mail through an SMTP relay with net/smtp:
// STARTTLS (default), implicit TLS, or none for a relay on a trusted network.
// The password is only ever given to the AUTH exchange, never to a log or an
// error message.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"strconv"
	"strings"
	"time"
)

// TLS modes.
const (
	TLSStartTLS = "starttls"
	TLSImplicit = "tls"
	TLSNone     = "none"
)

// Config describes the relay.
type Config struct {
	Host     string
	Port     int
	Username string // empty: no AUTH
	Password string
	From     string // "Name <addr>" or "addr"
	TLS      string // starttls (default), tls or none
	Timeout  time.Duration
	// TLSConfig verifies the relay; nil means the system roots with
	// ServerName = Host. Tests pass their own self-signed root here.
	TLSConfig *tls.Config
	// LocalName is sent in EHLO; default "localhost".
	LocalName string
}

// String keeps the password out of any %v of the config.
func (c Config) String() string {
	return fmt.Sprintf("smtp{%s:%d tls=%s user=%q from=%q}", c.Host, c.Port, c.TLS, c.Username, c.From)
}

// Message is one text/plain e-mail.
type Message struct {
	To      string // a plain address
	Subject string
	Body    string
}

// Sender delivers messages; safe for concurrent use (one connection per
// message: onboarding is paced, so pooling buys nothing).
type Sender struct {
	cfg  Config
	from *mail.Address
	now  func() time.Time
}

// New checks cfg and builds a Sender.
func New(cfg Config) (*Sender, error) {
	if cfg.Host == "" || cfg.Port < 1 || cfg.Port > 65535 {
		return nil, errors.New("mail: host and a port 1-65535 are required")
	}
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	if cfg.TLS != TLSStartTLS && cfg.TLS != TLSImplicit && cfg.TLS != TLSNone {
		return nil, fmt.Errorf("mail: tls must be starttls, tls or none, got %q", cfg.TLS)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("mail: from %q: %w", cfg.From, err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.LocalName == "" {
		cfg.LocalName = "localhost"
	}
	if cfg.TLSConfig == nil {
		cfg.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		cfg.TLSConfig = cfg.TLSConfig.Clone()
	}
	if cfg.TLSConfig.ServerName == "" {
		cfg.TLSConfig.ServerName = cfg.Host
	}
	return &Sender{cfg: cfg, from: from, now: time.Now}, nil
}

// Send delivers m. Cancelling ctx aborts the conversation; a message is
// only handed over once the server accepted the final "." of DATA.
func (s *Sender) Send(ctx context.Context, m Message) error {
	to, err := checkRecipient(m.To)
	if err != nil {
		return err
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return errors.New("mail: subject must be one line")
	}
	msg, err := s.render(to, m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	addr := net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("mail: connect %s: %w", addr, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// Unblock any read or write the moment ctx ends.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	if s.cfg.TLS == TLSImplicit {
		tc := tls.Client(conn, s.cfg.TLSConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("mail: tls handshake with %s: %w", addr, err)
		}
		conn = tc
	}
	if err := s.converse(conn, to, msg); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("mail: %s: %w (%w)", addr, ctx.Err(), err)
		}
		return fmt.Errorf("mail: %s: %w", addr, err)
	}
	return nil
}

func (s *Sender) converse(conn net.Conn, to string, msg []byte) error {
	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello(s.cfg.LocalName); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	if s.cfg.TLS == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("the server does not offer STARTTLS (set smtp.tls to tls or none if that is intended)")
		}
		if err := c.StartTLS(s.cfg.TLSConfig); err != nil {
			return fmt.Errorf("STARTTLS: %w", err)
		}
	}
	if s.cfg.Username != "" {
		// PlainAuth itself refuses to send credentials over an unencrypted
		// connection to anything but localhost.
		if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.cfg.Host)); err != nil {
			return fmt.Errorf("AUTH as %q: %w", s.cfg.Username, err)
		}
	}
	if err := c.Mail(s.from.Address); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("RCPT TO <%s>: %w", to, err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("end of DATA: %w", err)
	}
	_ = c.Quit() // the message is accepted; a failed QUIT changes nothing
	return nil
}

func checkRecipient(to string) (string, error) {
	a, err := mail.ParseAddress(to)
	if err != nil || a.Address != strings.TrimSpace(to) || strings.ContainsAny(to, "\r\n<>") {
		return "", fmt.Errorf("mail: recipient %q is not a plain e-mail address", to)
	}
	return a.Address, nil
}

// render builds the RFC 5322 message: UTF-8 text in quoted-printable, so
// any body survives relays without 8BITMIME.
func (s *Sender) render(to string, m Message) ([]byte, error) {
	var b bytes.Buffer
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return nil, fmt.Errorf("mail: random: %w", err)
	}
	domain := s.from.Address[strings.LastIndexByte(s.from.Address, '@')+1:]
	hdr := [][2]string{
		{"From", s.from.String()},
		{"To", (&mail.Address{Address: to}).String()},
		{"Subject", mime.QEncoding.Encode("utf-8", m.Subject)},
		{"Date", s.now().Format(time.RFC1123Z)},
		{"Message-ID", "<" + hex.EncodeToString(id) + "@" + domain + ">"},
		{"MIME-Version", "1.0"},
		{"Content-Type", "text/plain; charset=utf-8"},
		{"Content-Transfer-Encoding", "quoted-printable"},
		{"Auto-Submitted", "auto-generated"},
	}
	for _, h := range hdr {
		b.WriteString(h[0] + ": " + h[1] + "\r\n")
	}
	b.WriteString("\r\n")
	body := strings.ReplaceAll(m.Body, "\r\n", "\n")
	if !strings.HasSuffix(body, "\n") {
		body += "\n" // SMTP ends DATA with a line break anyway; say so up front
	}
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(body)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
