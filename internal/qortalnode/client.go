// Package qortalnode is the broker's one client of a Qortal core node's
// REST API (qortal.node_url): registered names, account public keys, QDN
// resources (search, status, newest transaction), rendering a resource as of
// one transaction, the read-only paths the Q-Apps gateway forwards, and
// broadcasting a transaction a user signed. The fake in nodefake serves the
// same API for tests.
package qortalnode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Errors callers test with errors.Is.
var (
	// ErrNotFound: the node answered that the thing does not exist.
	ErrNotFound = errors.New("not found on the qortal node")
	// ErrUnavailable: the node could not be reached or answered 5xx.
	ErrUnavailable = errors.New("qortal node unavailable")
	// ErrTimeout (wraps ErrUnavailable): the node did not answer in time.
	ErrTimeout = fmt.Errorf("%w: timed out", ErrUnavailable)
)

// maxJSON bounds the JSON answers the client decodes itself; file bodies
// are streamed and never read whole.
const maxJSON = 4 << 20

// Client talks to one node.
type Client struct {
	base   string
	apiKey string
	http   *http.Client
}

// New returns a client for baseURL (e.g. http://127.0.0.1:12391). apiKey is
// the node's API key, needed only to render resources; hc nil means a client
// with a 15 s timeout.
func New(baseURL, apiKey string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("qortal node url %q: want http(s)://host:port", baseURL)
	}
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	return &Client{base: strings.TrimSuffix(baseURL, "/"), apiKey: apiKey, http: hc}, nil
}

// BaseURL is the node's URL without a trailing slash.
func (c *Client) BaseURL() string { return c.base }

func (c *Client) do(ctx context.Context, method, path string, body io.Reader, header http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, fmt.Errorf("qortal node request %s: %w", path, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			return nil, fmt.Errorf("%s %s: %w", method, path, ErrTimeout)
		}
		return nil, fmt.Errorf("%s %s: %w: %w", method, path, ErrUnavailable, err)
	}
	return resp, nil
}

// get GETs path and returns a 200 answer's body, at most limit bytes.
func (c *Client) get(ctx context.Context, path string, header http.Header, limit int64) ([]byte, error) {
	resp, err := c.do(ctx, http.MethodGet, path, nil, header)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w: %w", path, ErrUnavailable, err)
	}
	if err := statusError(path, resp.StatusCode, body); err != nil {
		return nil, err
	}
	return body, nil
}

// getText GETs a short plain-text answer (a balance, a key), trimmed.
func (c *Client) getText(ctx context.Context, path string) (string, error) {
	body, err := c.get(ctx, path, nil, 4096)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(body)), nil
}

// getJSON GETs path and decodes a 200 answer into out.
func (c *Client) getJSON(ctx context.Context, path string, out any) error {
	body, err := c.get(ctx, path, http.Header{"Accept": {"application/json"}}, maxJSON)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}

// statusError maps a node answer to the client's errors. The node reports
// API errors as {"error": code, "message": ...}; 401 = unknown name, 124 =
// unknown address, 1201 = unknown resource.
func statusError(path string, status int, body []byte) error {
	if status == http.StatusOK {
		return nil
	}
	var e struct {
		Error   int    `json:"error"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(body, &e)
	msg := e.Message
	if msg == "" {
		msg = strings.TrimSpace(string(body[:min(len(body), 200)]))
	}
	switch {
	case status == http.StatusNotFound || e.Error == 401 || e.Error == 124 || e.Error == 1201:
		return fmt.Errorf("%s: %w: %s", path, ErrNotFound, msg)
	case status >= 500:
		return fmt.Errorf("%s: %w: HTTP %d %s", path, ErrUnavailable, status, msg)
	}
	return &APIError{Path: path, Status: status, Code: e.Error, Message: msg}
}

// APIError is a refusal the node explained (HTTP 4xx with core's ApiException body,
// e.g. 312 TRANSACTION_INVALID "transaction invalid: ... (INSUFFICIENT_BALANCE)").
type APIError struct {
	Path    string
	Status  int
	Code    int
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s: qortal node answered HTTP %d: %s", e.Path, e.Status, e.Message)
}

// PrimaryName is the primary registered name of address, "" when none.
func (c *Client) PrimaryName(ctx context.Context, address string) (string, error) {
	var out struct {
		Name  *string `json:"name"`
		Owner string  `json:"owner"`
	}
	if err := c.getJSON(ctx, "/names/primary/"+url.PathEscape(address), &out); err != nil {
		return "", err
	}
	if out.Name == nil || (out.Owner != "" && out.Owner != address) {
		return "", nil
	}
	return strings.TrimSpace(*out.Name), nil
}

// PublicKey is the Base58 public key of address, "" when the node does not
// know it (an account's key is on chain only after its first transaction).
func (c *Client) PublicKey(ctx context.Context, address string) (string, error) {
	s, err := c.getText(ctx, "/addresses/publickey/"+url.PathEscape(address))
	if err != nil {
		return "", err
	}
	if s == "false" {
		return "", nil
	}
	return s, nil
}

// Resource is one QDN resource as the node's search lists it.
type Resource struct {
	Name       string `json:"name"`
	Service    string `json:"service"`
	Identifier string `json:"identifier"`
	Size       int64  `json:"size"`
	Created    int64  `json:"created"`
	Updated    int64  `json:"updated"`
	Metadata   *struct {
		Title       string `json:"title"`
		Description string `json:"description"`
	} `json:"metadata"`
}

// Title is the published title, or the name.
func (r Resource) Title() string {
	if r.Metadata != nil && r.Metadata.Title != "" {
		return r.Metadata.Title
	}
	return r.Name
}

// SearchResources searches QDN resources of service by query (names,
// titles, descriptions), newest first.
func (c *Client) SearchResources(ctx context.Context, service, query string, limit int) ([]Resource, error) {
	q := url.Values{"service": {service}, "includemetadata": {"true"}, "limit": {strconv.Itoa(limit)}, "reverse": {"true"}}
	if query != "" {
		q.Set("query", query)
	}
	var out []Resource
	if err := c.getJSON(ctx, "/arbitrary/resources/search?"+q.Encode(), &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Version is one state of a QDN resource: the ARBITRARY transaction that
// produced it.
type Version struct {
	Signature string
	Timestamp time.Time
	Method    string // PUT or PATCH
}

// LatestVersion is the newest transaction of the resource (the state the
// node renders by name), ErrNotFound when none was published.
func (c *Client) LatestVersion(ctx context.Context, service, name, identifier string) (Version, error) {
	q := url.Values{"service": {service}, "name": {name}, "limit": {"20"}, "reverse": {"true"}, "confirmationStatus": {"BOTH"}}
	if identifier != "" {
		q.Set("identifier", identifier)
	}
	var txs []struct {
		Signature  string `json:"signature"`
		Timestamp  int64  `json:"timestamp"`
		Service    string `json:"service"`
		Name       string `json:"name"`
		Identifier string `json:"identifier"`
		Method     string `json:"method"`
	}
	if err := c.getJSON(ctx, "/arbitrary/search?"+q.Encode(), &txs); err != nil {
		return Version{}, err
	}
	want := identifier
	if want == "" {
		want = "default"
	}
	var best *Version
	for _, tx := range txs {
		id := tx.Identifier
		if id == "" {
			id = "default"
		}
		// The search matches names by prefix on some node versions: keep
		// only this exact resource.
		if tx.Service != service || !strings.EqualFold(tx.Name, name) || id != want || tx.Signature == "" {
			continue
		}
		v := Version{Signature: tx.Signature, Timestamp: time.UnixMilli(tx.Timestamp).UTC(), Method: tx.Method}
		if best == nil || v.Timestamp.After(best.Timestamp) {
			best = &v
		}
	}
	if best == nil {
		return Version{}, fmt.Errorf("%s %s/%s: %w: nothing published", service, name, identifier, ErrNotFound)
	}
	return *best, nil
}

// Render GETs a file of the resource as of the transaction signature, as
// the node's renderer answers it (index files, APP routing, rewritten HTML).
// The caller closes the body. The renderer needs the API key: the client
// authorizes the signature once (POST /render/authorize) and retries when
// the node asks for it.
func (c *Client) Render(ctx context.Context, signature, path string) (*http.Response, error) {
	p := "/render/signature/" + url.PathEscape(signature) + "/" + escapePath(strings.TrimPrefix(path, "/"))
	h := http.Header{}
	if c.apiKey != "" {
		h.Set("X-API-KEY", c.apiKey)
	}
	resp, err := c.do(ctx, http.MethodGet, p, nil, h)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
		return resp, nil
	}
	resp.Body.Close()
	if err := c.authorize(ctx, signature); err != nil {
		return nil, err
	}
	return c.do(ctx, http.MethodGet, p, nil, h)
}

func (c *Client) authorize(ctx context.Context, signature string) error {
	if c.apiKey == "" {
		return fmt.Errorf("render %s: the node wants an API key: set qortal.api_key_file", signature)
	}
	path := "/render/authorize/" + url.PathEscape(signature)
	resp, err := c.do(ctx, http.MethodPost, path, nil, http.Header{"X-API-KEY": {c.apiKey}})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("authorize render of %s: node answered HTTP %d (wrong qortal.api_key_file?): %s", signature, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return nil
}

// escapePath escapes each segment of a slash-separated path.
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// Get forwards a read-only GET of path?rawQuery to the node (the gateway's
// allowlist decides which paths). The caller closes the body.
func (c *Client) Get(ctx context.Context, path, rawQuery string) (*http.Response, error) {
	p := path
	if rawQuery != "" {
		p += "?" + rawQuery
	}
	return c.do(ctx, http.MethodGet, p, nil, http.Header{"Accept": {"application/json, text/plain, */*"}})
}

// Process broadcasts a signed transaction (Base58 of unsigned bytes ||
// signature) and returns the node's answer.
func (c *Client) Process(ctx context.Context, signed58 string) (string, error) {
	resp, err := c.do(ctx, http.MethodPost, "/transactions/process", strings.NewReader(signed58), http.Header{"Content-Type": {"text/plain"}})
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJSON))
	if err != nil {
		return "", fmt.Errorf("read /transactions/process: %w: %w", ErrUnavailable, err)
	}
	if err := statusError("/transactions/process", resp.StatusCode, body); err != nil {
		return "", err
	}
	return strings.TrimSpace(string(body)), nil
}

// Decode asks the node to decode unsigned transaction bytes (Base58), to
// show a user what they are about to sign.
func (c *Client) Decode(ctx context.Context, unsigned58 string) (json.RawMessage, error) {
	resp, err := c.do(ctx, http.MethodPost, "/transactions/decode?ignoreValidityChecks=false", strings.NewReader(unsigned58), http.Header{"Content-Type": {"text/plain"}})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJSON))
	if err != nil {
		return nil, fmt.Errorf("read /transactions/decode: %w: %w", ErrUnavailable, err)
	}
	if err := statusError("/transactions/decode", resp.StatusCode, body); err != nil {
		return nil, err
	}
	if !json.Valid(body) {
		return nil, fmt.Errorf("/transactions/decode: not JSON")
	}
	return body, nil
}
