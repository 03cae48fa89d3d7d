// Package nextcloud is the OCS Provisioning API client the broker uses, with
// a service account, to find, create and adjust Nextcloud accounts.
//
// Outcomes are decided on ocs.meta.statuscode and the HTTP status together:
// the v1 endpoint answers HTTP 200 for nearly every failure, the v2 endpoint
// maps 997->401, 998->404 and other codes below 200 to 400.
package nextcloud

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Config configures a Client.
type Config struct {
	BaseURL     string        // e.g. https://cloud.example.org
	User        string        // service account (admin or group sub-admin)
	AppPassword string        // never logged, never in errors, never in String()
	APIVersion  int           // 2 (default) or 1: which OCS endpoint flavour to call
	Timeout     time.Duration // per attempt, default 10s
	MaxRetries  int           // default 2; only idempotent calls are retried
	// RetryBackoff is the first retry's delay (doubling after), default 200ms.
	RetryBackoff time.Duration
	// MaxConcurrent caps the requests in flight to Nextcloud (default 8),
	// so a slow Nextcloud (2-3 s to create a user) ties up at most that
	// many broker requests and connections; the rest wait up to
	// QueueTimeout (default 1s) for a slot, then fail fast with
	// ErrUnavailable ("Nextcloud is busy", 503 nextcloud_unavailable).
	MaxConcurrent int
	QueueTimeout  time.Duration
	// CreateMissingGroups lets AddToGroup create a group that does not exist.
	CreateMissingGroups bool
	HTTPClient          *http.Client
	Logger              *slog.Logger
	// Observe, when set, is told the outcome of every operation.
	Observe func(op, outcome string, d time.Duration)
}

// String keeps the app password out of %v and %s output.
func (c Config) String() string {
	return fmt.Sprintf("nextcloud.Config{BaseURL:%q User:%q AppPassword:[redacted] APIVersion:%d Timeout:%s MaxRetries:%d}",
		c.BaseURL, c.User, c.APIVersion, c.Timeout, c.MaxRetries)
}

// GoString keeps the app password out of %#v output.
func (c Config) GoString() string { return c.String() }

// LogValue keeps the app password out of slog output.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("base_url", c.BaseURL), slog.String("user", c.User),
		slog.Int("api_version", c.APIVersion))
}

// Client calls one Nextcloud instance. It is safe for concurrent use.
type Client struct {
	cfg    Config
	base   string // scheme://host[:port][/path] without trailing slash
	prefix string // /ocs/v1.php or /ocs/v2.php
	okCode int    // 100 (v1) or 200 (v2)
	hc     *http.Client
	log    *slog.Logger
	rand   io.Reader
	slots  chan struct{} // one per request in flight (Config.MaxConcurrent)
}

// New validates cfg and builds a Client.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(cfg.BaseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("nextcloud: base URL must be an absolute http(s) URL: %w", ErrInvalid)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("nextcloud: base URL must not carry credentials, query or fragment: %w", ErrInvalid)
	}
	if cfg.User == "" || cfg.AppPassword == "" {
		return nil, fmt.Errorf("nextcloud: service account user and app password are required: %w", ErrInvalid)
	}
	switch cfg.APIVersion {
	case 0:
		cfg.APIVersion = 2
	case 1, 2:
	default:
		return nil, fmt.Errorf("nextcloud: API version must be 1 or 2, got %d: %w", cfg.APIVersion, ErrInvalid)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 2
	}
	if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = 200 * time.Millisecond
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = DefaultMaxConcurrent
	}
	if cfg.QueueTimeout <= 0 {
		cfg.QueueTimeout = DefaultQueueTimeout
	}
	c := &Client{cfg: cfg, base: strings.TrimRight(u.String(), "/"), hc: cfg.HTTPClient, log: cfg.Logger, rand: rand.Reader,
		slots: make(chan struct{}, cfg.MaxConcurrent)}
	if c.hc == nil {
		c.hc = &http.Client{}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.prefix, c.okCode = "/ocs/v2.php", 200
	if cfg.APIVersion == 1 {
		c.prefix, c.okCode = "/ocs/v1.php", 100
	}
	return c, nil
}

// call describes one OCS request.
type call struct {
	op         string
	method     string
	path       string // below the OCS prefix, segments already escaped
	query      url.Values
	form       url.Values
	idempotent bool
	secret     string // an extra value to scrub from errors (generated password)
}

// do runs c with retries for idempotent calls and returns the decoded
// envelope of a successful response.
func (c *Client) do(ctx context.Context, cl call) (*envelope, error) {
	var lastErr *Error
	attempts := 1
	if cl.idempotent {
		attempts += c.cfg.MaxRetries
	}
	for i := 0; i < attempts; i++ {
		if i > 0 {
			if err := sleep(ctx, c.cfg.RetryBackoff<<(i-1)); err != nil {
				lastErr.cause = err
				return nil, lastErr
			}
		}
		release, busy := c.acquire(ctx, cl.op)
		if busy != nil {
			// No retry: waiting longer is what the cap is there to stop.
			return nil, busy
		}
		env, err := c.attempt(ctx, cl, i+1)
		release()
		if err == nil {
			return env, nil
		}
		lastErr = err
		if !retryable(err) || ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

// Defaults for Config.MaxConcurrent and Config.QueueTimeout.
const (
	DefaultMaxConcurrent = 8
	DefaultQueueTimeout  = time.Second
)

// acquire takes a request slot, waiting up to QueueTimeout.
func (c *Client) acquire(ctx context.Context, op string) (release func(), busy *Error) {
	release = func() { <-c.slots }
	select {
	case c.slots <- struct{}{}:
		return release, nil
	default:
	}
	t := time.NewTimer(c.cfg.QueueTimeout)
	defer t.Stop()
	select {
	case c.slots <- struct{}{}:
		return release, nil
	case <-t.C:
		c.log.WarnContext(ctx, "nextcloud busy: request refused", "op", op, "in_flight", cap(c.slots), "waited", c.cfg.QueueTimeout)
		return nil, &Error{Op: op, Kind: ErrUnavailable,
			Message:    fmt.Sprintf("Nextcloud is slow: %d requests already in flight; retry shortly", cap(c.slots)),
			RetryAfter: 2 * time.Second}
	case <-ctx.Done():
		return nil, &Error{Op: op, Kind: ErrUnreachable, Message: "gave up waiting for a Nextcloud request slot", cause: ctx.Err()}
	}
}

// InFlight reports the requests to Nextcloud in flight now.
func (c *Client) InFlight() int { return len(c.slots) }

// retryable: no response, or a server-side failure. Never 429.
func retryable(e *Error) bool {
	if errors.Is(e.Kind, ErrUnreachable) || errors.Is(e.Kind, ErrUnavailable) {
		return true
	}
	return errors.Is(e.Kind, ErrUnexpected) &&
		(e.HTTPStatus >= 500 || e.OCSStatus == 996 || e.OCSStatus == 999 || e.OCSStatus >= 500)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

const maxBody = 1 << 20

func (c *Client) attempt(ctx context.Context, cl call, n int) (*envelope, *Error) {
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()

	q := url.Values{}
	for k, v := range cl.query {
		q[k] = v
	}
	q.Set("format", "json")
	target := c.base + c.prefix + "/" + cl.path + "?" + q.Encode()
	var body io.Reader
	if cl.form != nil {
		body = strings.NewReader(cl.form.Encode())
	}
	req, err := http.NewRequestWithContext(actx, cl.method, target, body)
	if err != nil {
		return nil, &Error{Op: cl.op, Kind: ErrInvalid, Message: "cannot build request"}
	}
	req.SetBasicAuth(c.cfg.User, c.cfg.AppPassword)
	req.Header.Set("OCS-APIRequest", "true")
	req.Header.Set("Accept", "application/json")
	if cl.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}

	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.log.DebugContext(ctx, "nextcloud request failed", "op", cl.op, "method", cl.method, "path", cl.path,
			"attempt", n, "duration", time.Since(start), "error", clean(transportReason(ctx, err), c.cfg.AppPassword, cl.secret))
		return nil, &Error{Op: cl.op, Kind: ErrUnreachable, Message: transportReason(ctx, err), cause: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, &Error{Op: cl.op, Kind: ErrUnreachable, HTTPStatus: resp.StatusCode,
			Message: "reading response: " + transportReason(ctx, err), cause: err}
	}
	if len(raw) > maxBody {
		// Reading stops here (memory stays bounded); say so rather than
		// report the cut-off JSON as a malformed answer.
		return nil, &Error{Op: cl.op, Kind: ErrUnexpected, HTTPStatus: resp.StatusCode,
			Message: fmt.Sprintf("response is larger than %d bytes; refusing to read it", maxBody)}
	}
	env, e := c.interpret(cl, resp, raw)
	ocs := 0
	switch {
	case env != nil:
		ocs = env.Meta.StatusCode
	case e != nil:
		ocs = e.OCSStatus // the failure's own status, not 0
	}
	c.log.DebugContext(ctx, "nextcloud request", "op", cl.op, "method", cl.method, "path", cl.path,
		"attempt", n, "http_status", resp.StatusCode, "ocs_status", ocs, "duration", time.Since(start))
	if e != nil {
		return nil, e
	}
	return env, nil
}

// transportReason describes a transport failure without echoing the URL
// (url.Error text includes it, and callers may have put secrets in paths).
func transportReason(ctx context.Context, err error) string {
	switch {
	case ctx.Err() != nil:
		return "cancelled: " + ctx.Err().Error()
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}
