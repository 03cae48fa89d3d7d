// Package mail sends plain-text e-mail through an SMTP relay with
// github.com/wneessen/go-mail: STARTTLS (default), implicit TLS, or none for
// a relay on a trusted network. The password is only ever given to the AUTH
// exchange, never to a log or an error message.
package mail

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
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
	msg, err := s.message(to, m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()

	// go-mail honours ctx only while dialling and sets its own deadlines
	// afterwards; closing the connection when ctx ends aborts any command
	// in flight, so a shutdown never waits on a slow relay. go-mail also
	// leaves the connection open when EHLO, STARTTLS or AUTH fails: every
	// connection is closed here on return (after QUIT that is a no-op).
	var mu sync.Mutex
	var conns []net.Conn
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	sendCtx := ctx
	// go-mail dials with a context of its own that ends once dialling is
	// done; the connection lives as long as sendCtx.
	dial := func(ctx context.Context, network, address string) (net.Conn, error) {
		var d net.Dialer
		conn, err := d.DialContext(ctx, network, address)
		if err != nil {
			return nil, err
		}
		if s.cfg.TLS == TLSImplicit {
			tc := tls.Client(conn, s.cfg.TLSConfig)
			if err := tc.HandshakeContext(ctx); err != nil {
				_ = conn.Close()
				return nil, fmt.Errorf("tls handshake: %w", err)
			}
			conn = tc
		}
		context.AfterFunc(sendCtx, func() { _ = conn.Close() })
		mu.Lock()
		conns = append(conns, conn)
		mu.Unlock()
		return conn, nil
	}
	opts := []gomail.Option{
		gomail.WithPort(s.cfg.Port),
		gomail.WithTimeout(s.cfg.Timeout),
		gomail.WithHELO(s.cfg.LocalName),
		gomail.WithTLSConfig(s.cfg.TLSConfig),
		gomail.WithDialContextFunc(dial),
	}
	switch s.cfg.TLS {
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		// The dialer above already speaks TLS; STARTTLS must not be tried.
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.cfg.Username != "" {
		// PLAIN refuses to send credentials over an unencrypted connection
		// to anything but localhost.
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain),
			gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	client, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	addr := net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		err = s.explain(err)
		if ctx.Err() != nil {
			return fmt.Errorf("mail: %s: %w (%w)", addr, ctx.Err(), err)
		}
		return fmt.Errorf("mail: %s: %w", addr, err)
	}
	return nil
}

// explain adds what an operator should do to the one failure whose library
// wording does not say it.
func (s *Sender) explain(err error) error {
	if s.cfg.TLS == TLSStartTLS && strings.Contains(err.Error(), "does not support STARTTLS") {
		return fmt.Errorf("the server does not offer STARTTLS (set smtp.tls to tls or none if that is intended): %w", err)
	}
	return err
}

func checkRecipient(to string) (string, error) {
	a, err := mail.ParseAddress(to)
	if err != nil || a.Address != strings.TrimSpace(to) || strings.ContainsAny(to, "\r\n<>") {
		return "", fmt.Errorf("mail: recipient %q is not a plain e-mail address", to)
	}
	return a.Address, nil
}

// message builds the e-mail: UTF-8 text in quoted-printable (go-mail's
// default), so any body survives relays without 8BITMIME.
func (s *Sender) message(to string, m Message) (*gomail.Msg, error) {
	// No User-Agent/X-Mailer: the broker does not advertise its libraries.
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent(), gomail.WithCharset(gomail.CharsetUTF8),
		gomail.WithEncoding(gomail.EncodingQP))
	msg.FromMailAddress(s.from)
	msg.ToMailAddress(&mail.Address{Address: to})
	msg.Subject(m.Subject)
	msg.SetDateWithValue(s.now())
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return nil, fmt.Errorf("mail: random: %w", err)
	}
	// The Message-ID names the sender's domain, not this host's name.
	domain := s.from.Address[strings.LastIndexByte(s.from.Address, '@')+1:]
	msg.SetMessageIDWithValue(hex.EncodeToString(id) + "@" + domain)
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	body := strings.ReplaceAll(m.Body, "\r\n", "\n")
	if !strings.HasSuffix(body, "\n") {
		body += "\n" // SMTP ends DATA with a line break anyway; say so up front
	}
	msg.SetBodyString(gomail.TypeTextPlain, body)
	return msg, nil
}
