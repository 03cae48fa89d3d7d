// Package smtptest is a small real SMTP server on loopback for tests: EHLO,
// STARTTLS or implicit TLS with a self-signed certificate made at start,
// AUTH PLAIN, MAIL, RCPT, DATA (with dot-unstuffing), RSET, NOOP, QUIT. It
// records every accepted message so tests can assert what was delivered.
package smtptest

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options choose the server's behaviour.
type Options struct {
	TLS      string // "starttls" (default), "tls" (implicit) or "none"
	Username string // when set, MAIL needs AUTH PLAIN with these credentials
	Password string
	// RejectRcpt answers 550 to RCPT for these addresses.
	RejectRcpt []string
}

// Message is one accepted e-mail.
type Message struct {
	From     string
	To       []string
	Raw      []byte
	Header   mail.Header
	Subject  string // decoded
	Body     string // decoded from quoted-printable when so encoded
	TLS      bool   // the session was encrypted when DATA ended
	AuthUser string
}

// Server is a running test SMTP server.
type Server struct {
	Host string
	Port int
	// RootCAs trusts the server's self-signed certificate.
	RootCAs *x509.CertPool

	opts   Options
	ln     net.Listener
	tlsCfg *tls.Config
	wg     sync.WaitGroup

	mu       sync.Mutex
	messages []Message
	authFail int
}

// New starts a server and stops it when the test ends.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.TLS == "" {
		opts.TLS = "starttls"
	}
	cert, pool, err := selfSigned()
	if err != nil {
		t.Fatalf("smtptest: certificate: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	s := &Server{opts: opts, ln: ln, RootCAs: pool, Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port,
		tlsCfg: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		s.wg.Wait()
	})
	return s
}

// TLSConfig is a client config that trusts this server.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.RootCAs, ServerName: s.Host, MinVersion: tls.VersionTLS12}
}

// Messages returns the accepted messages in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// AuthFailures counts rejected AUTH attempts.
func (s *Server) AuthFailures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authFail
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			s.session(c)
		}()
	}
}

type session struct {
	s        *Server
	conn     net.Conn
	r        *bufio.Reader
	tls      bool
	helo     bool
	authUser string
	from     string
	to       []string
}

func (s *Server) session(c net.Conn) {
	ss := &session{s: s, conn: c}
	if s.opts.TLS == "tls" {
		tc := tls.Server(c, s.tlsCfg)
		if err := tc.Handshake(); err != nil {
			return
		}
		ss.conn, ss.tls = tc, true
	}
	ss.r = bufio.NewReader(ss.conn)
	ss.reply("220 smtptest ESMTP ready")
	for {
		line, err := ss.r.ReadString('\n')
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		if !ss.handle(strings.ToUpper(verb), arg) {
			return
		}
	}
}

func (ss *session) reply(lines ...string) {
	_, _ = io.WriteString(ss.conn, strings.Join(lines, "\r\n")+"\r\n")
}

func (ss *session) reset() { ss.from, ss.to = "", nil }

// handle answers one command; false ends the session.
func (ss *session) handle(verb, arg string) bool {
	o := ss.s.opts
	switch verb {
	case "EHLO":
		ss.helo = true
		ss.reset()
		lines := []string{"250-smtptest greets " + arg}
		if o.TLS == "starttls" && !ss.tls {
			lines = append(lines, "250-STARTTLS")
		}
		if ss.tls || o.TLS == "none" {
			lines = append(lines, "250-AUTH PLAIN")
		}
		ss.reply(append(lines, "250 8BITMIME")...)
	case "HELO":
		ss.helo = true
		ss.reply("250 smtptest")
	case "STARTTLS":
		if o.TLS != "starttls" || ss.tls {
			ss.reply("502 5.5.1 STARTTLS not available")
			return true
		}
		ss.reply("220 2.0.0 go ahead")
		tc := tls.Server(ss.conn, ss.s.tlsCfg)
		if err := tc.Handshake(); err != nil {
			return false
		}
		// RFC 3207: forget everything learned before TLS.
		ss.conn, ss.r, ss.tls, ss.helo, ss.authUser = tc, bufio.NewReader(tc), true, false, ""
		ss.reset()
	case "AUTH":
		ss.auth(arg)
	case "MAIL":
		switch {
		case !ss.helo:
			ss.reply("503 5.5.1 EHLO first")
		case o.TLS == "starttls" && !ss.tls:
			ss.reply("530 5.7.0 must issue STARTTLS first")
		case o.Username != "" && ss.authUser == "":
			ss.reply("530 5.7.0 authentication required")
		default:
			ss.from = addrArg(arg, "FROM:")
			ss.reply("250 2.1.0 ok")
		}
	case "RCPT":
		to := addrArg(arg, "TO:")
		switch {
		case ss.from == "":
			ss.reply("503 5.5.1 MAIL first")
		case contains(o.RejectRcpt, to):
			ss.reply("550 5.1.1 <" + to + ">: no such mailbox")
		default:
			ss.to = append(ss.to, to)
			ss.reply("250 2.1.5 ok")
		}
	case "DATA":
		if len(ss.to) == 0 {
			ss.reply("503 5.5.1 RCPT first")
			return true
		}
		ss.reply("354 end with <CRLF>.<CRLF>")
		raw, err := readData(ss.r)
		if err != nil {
			return false
		}
		ss.s.record(Message{From: ss.from, To: ss.to, Raw: raw, TLS: ss.tls, AuthUser: ss.authUser})
		ss.reset()
		ss.reply("250 2.0.0 queued")
	case "RSET":
		ss.reset()
		ss.reply("250 2.0.0 ok")
	case "NOOP":
		ss.reply("250 2.0.0 ok")
	case "QUIT":
		ss.reply("221 2.0.0 bye")
		return false
	default:
		ss.reply("502 5.5.2 command not recognised")
	}
	return true
}

func (ss *session) auth(arg string) {
	mech, initial, _ := strings.Cut(arg, " ")
	if !strings.EqualFold(mech, "PLAIN") || (!ss.tls && ss.s.opts.TLS != "none") {
		ss.reply("504 5.5.4 mechanism not available")
		return
	}
	if initial == "" {
		ss.reply("334 ")
		line, err := ss.r.ReadString('\n')
		if err != nil {
			return
		}
		initial = strings.TrimRight(line, "\r\n")
	}
	raw, err := base64.StdEncoding.DecodeString(initial)
	parts := strings.Split(string(raw), "\x00")
	if err != nil || len(parts) != 3 || parts[1] != ss.s.opts.Username || parts[2] != ss.s.opts.Password {
		ss.s.mu.Lock()
		ss.s.authFail++
		ss.s.mu.Unlock()
		ss.reply("535 5.7.8 authentication failed")
		return
	}
	ss.authUser = parts[1]
	ss.reply("235 2.7.0 authenticated")
}

// readData reads DATA up to the lone "." line, undoing dot-stuffing.
func readData(r *bufio.Reader) ([]byte, error) {
	var b bytes.Buffer
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if line == ".\r\n" {
			return b.Bytes(), nil
		}
		b.WriteString(strings.TrimPrefix(line, "."))
	}
}

func (s *Server) record(m Message) {
	if parsed, err := mail.ReadMessage(bytes.NewReader(m.Raw)); err == nil {
		m.Header = parsed.Header
		m.Subject, _ = new(mime.WordDecoder).DecodeHeader(parsed.Header.Get("Subject"))
		body, _ := io.ReadAll(parsed.Body)
		if strings.EqualFold(parsed.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			body, _ = io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		}
		m.Body = strings.ReplaceAll(string(body), "\r\n", "\n")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
}

func addrArg(arg, prefix string) string {
	arg = strings.TrimSpace(arg)
	if len(arg) >= len(prefix) && strings.EqualFold(arg[:len(prefix)], prefix) {
		arg = arg[len(prefix):]
	}
	arg, _, _ = strings.Cut(strings.TrimSpace(arg), " ") // drop ESMTP parameters
	return strings.Trim(arg, "<>")
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// selfSigned makes a fresh ECDSA certificate for 127.0.0.1 and localhost.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// String names the server in test output.
func (s *Server) String() string { return fmt.Sprintf("smtptest(%s, %s)", s.Addr(), s.opts.TLS) }
