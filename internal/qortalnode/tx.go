package qortalnode

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// What the Q-Apps gateway asks the node to build an unsigned transaction for a user, as
// core v6.1.x answers it (api/resource/*Resource.java). Core's JSON builders for PAYMENT,
// JOIN_GROUP and polls (POST /payments/pay, /groups/join, /polls/vote, /polls/create)
// answer NON_PRODUCTION (error 6, HTTP 403) on every mainnet node unless its settings say
// "apiRestricted": false, so the gateway serialises those itself (internal/qortal/tx.go,
// as Qortal Hub does) and has the node decode them with its validity checks. CHAT and
// ARBITRARY are built by the node: POST /chat (+ /chat/compute for the proof of work) and
// POST /arbitrary/{service}/{name}[/{identifier}]/base64 take the API key, not that
// setting.

// LastReference is the account's last transaction signature (Base58), "" before its
// first transaction (GET /addresses/lastreference/{address} answers "false").
func (c *Client) LastReference(ctx context.Context, address string) (string, error) {
	s, err := c.getText(ctx, "/addresses/lastreference/"+url.PathEscape(address))
	if err != nil || s == "false" {
		return "", err
	}
	return s, nil
}

// UnitFee is the fee of one transaction of txType (e.g. "PAYMENT") now, in 1e-8 QORT
// (GET /transactions/unitfee?txType=, a plain number).
func (c *Client) UnitFee(ctx context.Context, txType string) (int64, error) {
	path := "/transactions/unitfee?" + url.Values{"txType": {txType}}.Encode()
	s, err := c.getText(ctx, path)
	if err != nil {
		return 0, err
	}
	fee, err := strconv.ParseInt(s, 10, 64)
	if err != nil || fee < 0 {
		return 0, fmt.Errorf("%s: not a fee: %q", path, s[:min(len(s), 40)])
	}
	return fee, nil
}

// NameOwner is the address owning a registered name (GET /names/{name}), ErrNotFound
// when the name is not registered.
func (c *Client) NameOwner(ctx context.Context, name string) (string, error) {
	var out struct {
		Owner string `json:"owner"`
	}
	if err := c.getJSON(ctx, "/names/"+url.PathEscape(name), &out); err != nil {
		return "", err
	}
	if out.Owner == "" {
		return "", fmt.Errorf("/names/%s: %w: no owner", name, ErrNotFound)
	}
	return out.Owner, nil
}

// ChatTx is ChatTransactionData as POST /chat reads it: byte arrays in Base58, amounts as
// decimal strings.
type ChatTx struct {
	Timestamp       int64  `json:"timestamp"`
	Reference       string `json:"reference"`
	Fee             string `json:"fee"`
	TxGroupID       int32  `json:"txGroupId"`
	SenderPublicKey string `json:"senderPublicKey"`
	Recipient       string `json:"recipient,omitempty"`
	ChatReference   string `json:"chatReference,omitempty"`
	Data            string `json:"data"`
	IsText          bool   `json:"isText"`
	IsEncrypted     bool   `json:"isEncrypted"`
}

// BuildChat has the node build an unsigned CHAT transaction (POST /chat, API key) and
// compute its proof-of-work nonce (POST /chat/compute, API key): Base58 unsigned bytes.
func (c *Client) BuildChat(ctx context.Context, tx ChatTx) (string, error) {
	body, _ := json.Marshal(tx)
	raw, err := c.postText(ctx, "/chat", "application/json", string(body))
	if err != nil {
		return "", err
	}
	return c.postText(ctx, "/chat/compute", "text/plain", raw)
}

// Publish describes a QDN resource to publish from base64 data.
type Publish struct {
	Service, Name, Identifier string // identifier "" = the default resource
	Base64                    string
	Filename, Title           string
	Description, Category     string
	Tags                      []string
	Fee                       int64 // 1e-8 QORT; with a fee no proof of work is needed
}

// BuildPublish has the node store the data and build the unsigned ARBITRARY transaction
// for it (POST /arbitrary/{service}/{name}[/{identifier}]/base64?fee=..., API key; the
// node takes the creator's key from the name's owner): Base58 unsigned bytes.
func (c *Client) BuildPublish(ctx context.Context, p Publish) (string, error) {
	path := "/arbitrary/" + url.PathEscape(p.Service) + "/" + url.PathEscape(p.Name)
	if p.Identifier != "" {
		path += "/" + url.PathEscape(p.Identifier)
	}
	q := url.Values{"fee": {strconv.FormatInt(p.Fee, 10)}}
	for k, v := range map[string]string{"filename": p.Filename, "title": p.Title, "description": p.Description, "category": p.Category} {
		if v != "" {
			q.Set(k, v)
		}
	}
	for _, t := range p.Tags {
		q.Add("tags", t)
	}
	return c.postText(ctx, path+"/base64?"+q.Encode(), "text/plain", p.Base64)
}

// ProcessV2 broadcasts a signed transaction and returns the node's API-version-2 answer:
// the transaction's JSON (what Qortal Hub hands an app after SEND_COIN, JOIN_GROUP,
// SEND_CHAT_MESSAGE, PUBLISH_QDN_RESOURCE and the poll actions).
func (c *Client) ProcessV2(ctx context.Context, signed58 string) (json.RawMessage, error) {
	s, err := c.postText(ctx, "/transactions/process?apiVersion=2", "text/plain", signed58)
	if err != nil {
		return nil, err
	}
	if !json.Valid([]byte(s)) {
		return nil, fmt.Errorf("/transactions/process: not JSON: %q", s[:min(len(s), 80)])
	}
	return json.RawMessage(s), nil
}

// postText POSTs body with the API key (when configured) and returns a 200 answer's
// trimmed text.
func (c *Client) postText(ctx context.Context, path, contentType, body string) (string, error) {
	h := http.Header{"Content-Type": {contentType}}
	if c.apiKey != "" {
		h.Set("X-API-KEY", c.apiKey)
	}
	resp, err := c.do(ctx, http.MethodPost, path, strings.NewReader(body), h)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, maxJSON))
	if err != nil {
		return "", fmt.Errorf("read %s: %w: %w", path, ErrUnavailable, err)
	}
	short, _, _ := strings.Cut(path, "?")
	if err := statusError(short, resp.StatusCode, out); err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}
