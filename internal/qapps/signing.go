package qapps

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/qortalnode"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// The signing actions the gateway carries out by building the transaction itself, for
// the signed-in user, as Qortal Hub does (src/qortal/get.ts: sendCoin, joinGroup,
// sendChatMessage, publishQDNResource, voteOnPoll, createPoll): the app's parameters
// are validated, the unsigned transaction is built with the user's public key as its
// creator (PAYMENT, JOIN_GROUP, VOTE_ON_POLL, CREATE_POLL serialised here as core does;
// CHAT and ARBITRARY built by the node), the node decodes it with its validity checks,
// and the launcher shows that decoded transaction for the user to sign. The prompt
// carries a MAC'd token binding the exact bytes to the app, the user and the action,
// so the signature the launcher returns is accepted only for the bytes the gateway
// built; the gateway then broadcasts and answers what Hub answers: the node's JSON of
// the processed transaction.

// tokenTTL bounds how long a user may take to sign a built transaction.
const tokenTTL = 10 * time.Minute

// builtActions are carried out by building the transaction (SIGN_TRANSACTION signs the
// app's own bytes).
var builtActions = []string{"SEND_COIN", "JOIN_GROUP", "SEND_CHAT_MESSAGE", "PUBLISH_QDN_RESOURCE", "PUBLISH_MULTIPLE_QDN_RESOURCES", "VOTE_ON_POLL", "CREATE_POLL"}

// TxNode is what building a transaction needs from the node.
type TxNode interface {
	LastReference(ctx context.Context, address string) (string, error)
	UnitFee(ctx context.Context, txType string) (int64, error)
	NameOwner(ctx context.Context, name string) (string, error)
	PrimaryName(ctx context.Context, address string) (string, error)
	BuildChat(ctx context.Context, tx qortalnode.ChatTx) (string, error)
	BuildPublish(ctx context.Context, p qortalnode.Publish) (string, error)
	ProcessV2(ctx context.Context, signed58 string) (json.RawMessage, error)
}

// refusal is a clear answer to the app instead of a prompt.
type refusal struct{ code, msg string }

func (e *refusal) Error() string { return e.code + ": " + e.msg }

func invalidField(action, field, why string) *refusal {
	return &refusal{"invalid_request", action + ": " + field + " " + why}
}

// nodeRefusal turns a node failure into what the app is told.
func nodeRefusal(action string, err error) *refusal {
	var apiErr *qortalnode.APIError
	switch {
	case errors.As(err, &apiErr):
		return &refusal{"invalid_transaction", action + ": the Qortal node refused the transaction: " + apiErr.Message}
	case errors.Is(err, qortalnode.ErrTimeout):
		return &refusal{"qortal_node_unavailable", "the Qortal node did not answer in time"}
	case errors.Is(err, qortalnode.ErrNotFound):
		return &refusal{"not_found", action + ": " + err.Error()}
	}
	return &refusal{"qortal_node_unavailable", "the Qortal node is unavailable"}
}

// broadcastFailure says why the node did not take a signed transaction.
func broadcastFailure(err error) string {
	var apiErr *qortalnode.APIError
	if errors.As(err, &apiErr) {
		return "the Qortal node did not accept the transaction: " + apiErr.Message
	}
	if errors.Is(err, qortalnode.ErrTimeout) {
		return "the Qortal node did not answer in time; the transaction may still be broadcast"
	}
	return "the Qortal node could not take the transaction: " + err.Error()
}

// userKey is the signed-in account's public key: the node's (on chain since the
// account's first transaction), else the one the launcher derived from the key the user
// typed, accepted only when it is the session's address. A key from the app is never used.
func (g *Gateway) userKey(ctx context.Context, u claims, launcherKey string) (ed25519.PublicKey, *refusal) {
	if pk, err := g.node.PublicKey(ctx, u.Address); err == nil && pk != "" {
		if pub, err := qortal.ParsePublicKey(pk); err == nil && qortal.AddressFromPublicKey(pub) == u.Address {
			return pub, nil
		}
	} else if err != nil && !errors.Is(err, qortalnode.ErrNotFound) {
		return nil, nodeRefusal("", err)
	}
	if launcherKey != "" {
		if pub, err := qortal.ParsePublicKey(strings.TrimSpace(launcherKey)); err == nil && qortal.AddressFromPublicKey(pub) == u.Address {
			return pub, nil
		}
		return nil, &refusal{"wrong_key", "that key is not the signed-in account's key"}
	}
	return nil, &refusal{"public_key_needed", "the Qortal node does not know this account's public key yet (it has made no transaction): the launcher asks for the key once"}
}

// parseAmount reads a QORT amount (a JSON number or decimal string, at most 8 places)
// as 1e-8 units.
func parseAmount(v any) (int64, bool) {
	var s string
	switch x := v.(type) {
	case float64:
		if x <= 0 || x > 1e10 || math.IsNaN(x) {
			return 0, false
		}
		// As Hub (Number(amount) * 1e8): a float's noise past 8 places is rounded.
		s = strings.TrimRight(strings.TrimRight(strconv.FormatFloat(x, 'f', 8, 64), "0"), ".")
	case string:
		s = strings.TrimSpace(x)
	default:
		return 0, false
	}
	if !amountRE.MatchString(s) {
		return 0, false
	}
	whole, frac, _ := strings.Cut(s, ".")
	w, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt((frac + "00000000")[:8], 10, 64)
	out := w*100_000_000 + f
	return out, out > 0
}

func intField(r request, k string) (int64, bool) {
	switch x := r[k].(type) {
	case float64:
		if x != math.Trunc(x) || x < 0 || x > math.MaxInt32 {
			return 0, false
		}
		return int64(x), true
	case string:
		v, err := strconv.ParseInt(strings.TrimSpace(x), 10, 32)
		return v, err == nil && v >= 0
	}
	return 0, false
}

var (
	amountRE    = regexp.MustCompile(`^[0-9]{1,11}(\.[0-9]{1,8})?$`)
	serviceRE   = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,39}$`)
	publishIDRE = regexp.MustCompile(`^[^/\\?#\x00-\x1f]{1,64}$`)
)

// reference is the account's last reference, or 64 random bytes for an account
// without one (core ignores references since disableReferenceTimestamp, 2022).
func (g *Gateway) reference(ctx context.Context, address string) ([]byte, error) {
	ref58, err := g.node.LastReference(ctx, address)
	if err != nil {
		return nil, err
	}
	if ref, err := qortal.Base58Decode(ref58); err == nil && len(ref) == 64 {
		return ref, nil
	}
	ref := make([]byte, 64)
	_, _ = rand.Read(ref)
	return ref, nil
}

// base is the common part of a transaction the gateway serialises: now, the user's
// key, their last reference and the node's unit fee for txType.
func (g *Gateway) base(ctx context.Context, u claims, pub ed25519.PublicKey, txType string) (qortal.TxBase, error) {
	ref, err := g.reference(ctx, u.Address)
	if err != nil {
		return qortal.TxBase{}, err
	}
	fee, err := g.node.UnitFee(ctx, txType)
	if err != nil {
		return qortal.TxBase{}, err
	}
	return qortal.TxBase{Timestamp: g.now(), Reference: ref, Creator: pub, Fee: fee}, nil
}

// buildTx makes the unsigned transaction for action: Base58 bytes and the transaction
// type they must be.
func (g *Gateway) buildTx(ctx context.Context, u claims, pub ed25519.PublicKey, action string, req request) (string, int32, *refusal) {
	var (
		raw []byte
		typ int32
		err error
	)
	switch action {
	case "SEND_COIN":
		coin := strings.ToUpper(req.str("coin"))
		if coin == "" {
			return "", 0, invalidField(action, "coin", "is required (QORT)")
		}
		if coin != "QORT" {
			return "", 0, &refusal{"unsupported_coin", "SEND_COIN: only QORT can be sent through this gateway, not " + coin + " (foreign-coin wallets are derived from the private key, which the gateway never has)"}
		}
		amount, ok := parseAmount(req["amount"])
		if !ok {
			return "", 0, invalidField(action, "amount", "must be a positive QORT amount with at most 8 decimals")
		}
		recipient := req.str("recipient")
		if recipient == "" {
			recipient = req.str("destinationAddress")
		}
		if recipient == "" {
			return "", 0, invalidField(action, "recipient", "is required (an address or a registered name)")
		}
		if qortal.ValidateAddress(recipient) != nil {
			owner, err := g.node.NameOwner(ctx, recipient)
			if err != nil {
				if errors.Is(err, qortalnode.ErrNotFound) {
					return "", 0, invalidField(action, "recipient", "is neither a Qortal address nor a registered name")
				}
				return "", 0, nodeRefusal(action, err)
			}
			recipient = owner
		}
		b, err2 := g.base(ctx, u, pub, "PAYMENT")
		if err2 != nil {
			return "", 0, nodeRefusal(action, err2)
		}
		typ = qortal.TxPayment
		raw, err = qortal.BuildPaymentTx(b, recipient, amount)
	case "JOIN_GROUP":
		id, ok := intField(req, "groupId")
		if !ok || id <= 0 {
			return "", 0, invalidField(action, "groupId", "must be a positive group id")
		}
		b, err2 := g.base(ctx, u, pub, "JOIN_GROUP")
		if err2 != nil {
			return "", 0, nodeRefusal(action, err2)
		}
		typ = qortal.TxJoinGroup
		raw, err = qortal.BuildJoinGroupTx(b, int32(id))
	case "VOTE_ON_POLL":
		name := req.str("pollName")
		if name == "" {
			return "", 0, invalidField(action, "pollName", "is required")
		}
		idx, ok := intField(req, "optionIndex")
		if !ok {
			return "", 0, invalidField(action, "optionIndex", "must be a non-negative integer")
		}
		b, err2 := g.base(ctx, u, pub, "VOTE_ON_POLL")
		if err2 != nil {
			return "", 0, nodeRefusal(action, err2)
		}
		typ = qortal.TxVoteOnPoll
		raw, err = qortal.BuildVoteOnPollTx(b, name, int32(idx))
	case "CREATE_POLL":
		name, desc := req.str("pollName"), req.str("pollDescription")
		if name == "" {
			return "", 0, invalidField(action, "pollName", "is required")
		}
		if desc == "" {
			return "", 0, invalidField(action, "pollDescription", "is required")
		}
		list, _ := req["pollOptions"].([]any)
		var opts []string
		for _, o := range list {
			s, ok := o.(string)
			if !ok || strings.TrimSpace(s) == "" {
				return "", 0, invalidField(action, "pollOptions", "must be a list of non-empty strings")
			}
			opts = append(opts, s)
		}
		if len(opts) == 0 {
			return "", 0, invalidField(action, "pollOptions", "is required (a list of option names)")
		}
		if owner := req.str("pollOwnerAddress"); owner != "" && owner != u.Address {
			return "", 0, invalidField(action, "pollOwnerAddress", "must be the signed-in account's address")
		}
		b, err2 := g.base(ctx, u, pub, "CREATE_POLL")
		if err2 != nil {
			return "", 0, nodeRefusal(action, err2)
		}
		typ = qortal.TxCreatePoll
		raw, err = qortal.BuildCreatePollTx(b, u.Address, name, desc, opts)
	case "SEND_CHAT_MESSAGE":
		return g.buildChat(ctx, pub, req)
	case "PUBLISH_QDN_RESOURCE":
		return g.buildPublish(ctx, u, pub, req, action)
	default:
		return "", 0, &refusal{"unsupported_action", action + " is allowed for this app but this gateway cannot carry it out yet"}
	}
	if err != nil {
		return "", 0, &refusal{"invalid_request", action + ": " + strings.TrimPrefix(err.Error(), qortal.ErrTx.Error()+": ")}
	}
	return qortal.Base58Encode(raw), typ, nil
}

// buildChat is SEND_CHAT_MESSAGE to a group: the message as Hub sends it (its
// fullMessageObject/fullContent, or Hub's rich-text document around message), not
// encrypted, built and proof-of-worked by the node. A direct message is encrypted with a
// secret shared between the user's private key and the recipient's public key, which
// the gateway never has: refused.
func (g *Gateway) buildChat(ctx context.Context, pub ed25519.PublicKey, req request) (string, int32, *refusal) {
	const action = "SEND_CHAT_MESSAGE"
	if !req.has("groupId") {
		if req.str("recipient") != "" || req.str("destinationAddress") != "" {
			return "", 0, &refusal{"unsupported_encryption", "SEND_CHAT_MESSAGE: direct messages are encrypted with a key derived from your private key, which never leaves the launcher's page, so this gateway sends group messages only (groupId)"}
		}
		return "", 0, invalidField(action, "groupId", "is required (this gateway sends group messages)")
	}
	gid, ok := intField(req, "groupId")
	if !ok || gid <= 0 {
		return "", 0, invalidField(action, "groupId", "must be a positive group id")
	}
	var data string
	full := req["fullMessageObject"]
	if full == nil {
		full = req["fullContent"]
	}
	switch f := full.(type) {
	case string:
		data = f
	case map[string]any, []any:
		b, _ := json.Marshal(f)
		data = string(b)
	case nil:
		msg := req.str("message")
		if msg == "" {
			return "", 0, invalidField(action, "message", "is required (or fullMessageObject)")
		}
		b, _ := json.Marshal(map[string]any{
			"messageText": map[string]any{"type": "doc", "content": []any{map[string]any{"type": "paragraph",
				"content": []any{map[string]any{"type": "text", "text": msg}}}}},
			"images": []any{}, "repliedTo": "", "version": 3,
		})
		data = string(b)
	default:
		return "", 0, invalidField(action, "fullMessageObject", "must be a string or an object")
	}
	if len(data) > qortal.MaxChatData {
		return "", 0, invalidField(action, "message", fmt.Sprintf("is %d bytes; a chat message holds at most %d", len(data), qortal.MaxChatData))
	}
	tx := qortalnode.ChatTx{Timestamp: g.now().UnixMilli(), Fee: "0", TxGroupID: int32(gid),
		SenderPublicKey: qortal.Base58Encode(pub), Data: qortal.Base58Encode([]byte(data)), IsText: true}
	if cr := req.str("chatReference"); cr != "" {
		if b, err := qortal.Base58Decode(cr); err != nil || len(b) != 64 {
			return "", 0, invalidField(action, "chatReference", "must be the Base58 signature of the message referred to")
		}
		tx.ChatReference = cr
	}
	// Hub sends group messages with a random reference; the chat has no chain order.
	ref := make([]byte, 64)
	_, _ = rand.Read(ref)
	tx.Reference = qortal.Base58Encode(ref)
	unsigned, err := g.node.BuildChat(ctx, tx)
	if err != nil {
		return "", 0, nodeRefusal(action, err)
	}
	return unsigned, qortal.TxChat, nil
}

// buildPublish is PUBLISH_QDN_RESOURCE from base64 data under a name the user owns
// (default: their primary name): the node keeps the data and builds the ARBITRARY
// transaction with the name owner's key, with the unit fee (so no proof of work), as
// Hub's publishData does.
// action names the request in messages ("PUBLISH_MULTIPLE_QDN_RESOURCES: resources[1]").
func (g *Gateway) buildPublish(ctx context.Context, u claims, pub ed25519.PublicKey, req request, action string) (string, int32, *refusal) {
	service := strings.ToUpper(req.str("service"))
	if service == "" {
		return "", 0, invalidField(action, "service", "is required")
	}
	if !serviceRE.MatchString(service) {
		return "", 0, invalidField(action, "service", "is not a QDN service name")
	}
	if req["encrypt"] == true || req.has("encryption") {
		return "", 0, &refusal{"unsupported_encryption", action + ": encrypted publishing needs your private key for the shared secret, which the gateway never has"}
	}
	data64 := req.str("data64")
	if data64 == "" {
		data64 = req.str("base64")
	}
	if data64 == "" {
		if req.has("file") || req.has("blob") {
			return "", 0, invalidField(action, "file", "cannot cross the gateway's bridge: send the data as data64 (base64)")
		}
		return "", 0, invalidField(action, "data64", "is required (the resource's content in base64)")
	}
	if _, err := base64.StdEncoding.DecodeString(data64); err != nil {
		return "", 0, invalidField(action, "data64", "is not valid base64")
	}
	identifier := req.str("identifier")
	if identifier == "" {
		identifier = "default"
	}
	if !publishIDRE.MatchString(identifier) || strings.HasPrefix(identifier, "symmetric-qchat-group-") {
		return "", 0, invalidField(action, "identifier", "is not a valid identifier (1 to 64 characters, no slashes)")
	}
	name := req.str("name")
	if name == "" {
		n, err := g.node.PrimaryName(ctx, u.Address)
		if err != nil {
			return "", 0, nodeRefusal(action, err)
		}
		if n == "" {
			return "", 0, invalidField(action, "name", "is required: the signed-in account has no registered name")
		}
		name = n
	}
	owner, err := g.node.NameOwner(ctx, name)
	if err != nil {
		if errors.Is(err, qortalnode.ErrNotFound) {
			return "", 0, invalidField(action, "name", "is not a registered name")
		}
		return "", 0, nodeRefusal(action, err)
	}
	if owner != u.Address {
		return "", 0, &refusal{"name_not_owned", action + ": the name " + name + " is not the signed-in account's"}
	}
	fee, err := g.node.UnitFee(ctx, "ARBITRARY")
	if err != nil {
		return "", 0, nodeRefusal(action, err)
	}
	p := qortalnode.Publish{Service: service, Name: name, Identifier: identifier, Base64: data64, Fee: fee,
		Filename: req.str("filename"), Title: req.str("title"), Description: req.str("description"), Category: req.str("category")}
	if tags, ok := req["tags"].([]any); ok {
		for _, t := range tags {
			if s, ok := t.(string); ok && s != "" && len(p.Tags) < 5 {
				p.Tags = append(p.Tags, s)
			}
		}
	}
	for i := 1; i <= 5 && len(p.Tags) < 5; i++ {
		if s := req.str(fmt.Sprintf("tag%d", i)); s != "" {
			p.Tags = append(p.Tags, s)
		}
	}
	unsigned, err := g.node.BuildPublish(ctx, p)
	if err != nil {
		return "", 0, nodeRefusal(action, err)
	}
	return unsigned, qortal.TxArbitrary, nil
}

// promptClaims bind a built transaction to the app, user, session and action.
func (g *Gateway) promptToken(u claims, appID, action string, unsigned []byte) string {
	sum := sha256.Sum256(unsigned)
	return g.prompts.make(claims{Kind: "p", User: u.User, Address: u.Address, App: appID, Sid: u.Sid, Action: action,
		Hash: base64.RawURLEncoding.EncodeToString(sum[:]), Expires: g.now().Add(tokenTTL).Unix()})
}

func (g *Gateway) checkPromptToken(tok string, u claims, appID, action string, unsigned []byte) bool {
	c, err := g.prompts.check(tok, "p", g.now())
	sum := sha256.Sum256(unsigned)
	return err == nil && c.User == u.User && c.Address == u.Address && c.App == appID && c.Sid == u.Sid &&
		c.Action == action && c.Hash == base64.RawURLEncoding.EncodeToString(sum[:])
}

// prepare answers an allowed built action with a sign prompt, or a refusal.
func (g *Gateway) prepare(ctx context.Context, w http.ResponseWriter, u claims, appID, action string, req request, launcherKey string) {
	pub, ref := g.userKey(ctx, u, launcherKey)
	if ref != nil {
		g.refuse(w, action, ref.code, ref.msg)
		return
	}
	unsigned58, typ, ref := g.buildTx(ctx, u, pub, action, req)
	if ref != nil {
		g.refuse(w, action, ref.code, ref.msg)
		return
	}
	unsigned, signBytes, decoded, ref := g.checkBuilt(ctx, action, unsigned58, typ, pub)
	if ref != nil {
		g.refuse(w, action, ref.code, ref.msg)
		return
	}
	p := &signPrompt{Action: action, Unsigned: unsigned58, Decoded: decoded, Process: true, Token: g.promptToken(u, appID, action, unsigned)}
	if !bytes.Equal(signBytes, unsigned) {
		p.SignBytes = qortal.Base58Encode(signBytes)
	}
	apierror.WriteJSON(w, http.StatusOK, bridgeAnswer{Sign: p})
}

// maxBatch bounds PUBLISH_MULTIPLE_QDN_RESOURCES (the bridge body is at most 1 MiB anyway).
const maxBatch = 20

// batchTx is one transaction of a batch prompt.
type batchTx struct {
	Unsigned  string          `json:"unsignedBytes"`
	SignBytes string          `json:"signBytes,omitempty"`
	Decoded   json.RawMessage `json:"decoded"`
}

// batchHash is what a batch token binds: every transaction's bytes, in order.
func batchHash(unsigned [][]byte) []byte {
	h := sha256.New()
	for _, u := range unsigned {
		sum := sha256.Sum256(u)
		h.Write(sum[:])
	}
	return h.Sum(nil)
}

// prepareBatch is PUBLISH_MULTIPLE_QDN_RESOURCES: each resource is checked and built as
// PUBLISH_QDN_RESOURCE is, the node decodes each, and the user signs them all in one
// prompt (one token binds the whole list, in order).
func (g *Gateway) prepareBatch(ctx context.Context, w http.ResponseWriter, u claims, appID string, req request, launcherKey string) {
	const action = "PUBLISH_MULTIPLE_QDN_RESOURCES"
	list, _ := req["resources"].([]any)
	if len(list) == 0 || len(list) > maxBatch {
		g.refuse(w, action, "invalid_request", fmt.Sprintf("%s: resources must be a list of 1 to %d resources", action, maxBatch))
		return
	}
	if req["encrypt"] == true {
		g.refuse(w, action, "unsupported_encryption", action+": encrypted publishing needs your private key for the shared secret, which the gateway never has")
		return
	}
	pub, ref := g.userKey(ctx, u, launcherKey)
	if ref != nil {
		g.refuse(w, action, ref.code, ref.msg)
		return
	}
	var (
		txs []batchTx
		raw [][]byte
		all []json.RawMessage
	)
	for i, item := range list {
		res, ok := item.(map[string]any)
		label := fmt.Sprintf("%s: resources[%d]", action, i)
		if !ok {
			g.refuse(w, action, "invalid_request", label+" is not an object")
			return
		}
		unsigned58, _, ref := g.buildPublish(ctx, u, pub, request(res), label)
		if ref != nil {
			g.refuse(w, action, ref.code, ref.msg)
			return
		}
		unsigned, signBytes, decoded, ref := g.checkBuilt(ctx, label, unsigned58, qortal.TxArbitrary, pub)
		if ref != nil {
			g.refuse(w, action, ref.code, ref.msg)
			return
		}
		t := batchTx{Unsigned: unsigned58, Decoded: decoded}
		if !bytes.Equal(signBytes, unsigned) {
			t.SignBytes = qortal.Base58Encode(signBytes)
		}
		txs, raw, all = append(txs, t), append(raw, unsigned), append(all, decoded)
	}
	shown, _ := json.Marshal(all)
	tok := g.prompts.make(claims{Kind: "p", User: u.User, Address: u.Address, App: appID, Sid: u.Sid, Action: action,
		Hash: base64.RawURLEncoding.EncodeToString(batchHash(raw)), Expires: g.now().Add(tokenTTL).Unix()})
	apierror.WriteJSON(w, http.StatusOK, bridgeAnswer{Sign: &signPrompt{Action: action, Decoded: shown, Process: true, Token: tok, Batch: txs}})
}

// checkBuilt makes sure the node built what was asked (type, creator), computes the
// signing bytes and has the node decode the transaction with its validity checks.
func (g *Gateway) checkBuilt(ctx context.Context, action, unsigned58 string, typ int32, pub ed25519.PublicKey) ([]byte, []byte, json.RawMessage, *refusal) {
	unsigned, err := qortal.Base58Decode(unsigned58)
	h, err2 := qortal.ParseTxHeader(unsigned)
	if err != nil || err2 != nil || h.Type != typ || !h.Creator.Equal(pub) {
		// The node built something else than asked: never show it.
		g.log.Error("qapps: the node built an unexpected transaction", "action", action)
		return nil, nil, nil, &refusal{"invalid_transaction", action + ": the Qortal node built an unexpected transaction"}
	}
	signBytes, err := qortal.SigningBytes(unsigned)
	if err != nil {
		return nil, nil, nil, &refusal{"invalid_transaction", action + ": " + err.Error()}
	}
	decoded, err := g.node.Decode(ctx, unsigned58)
	if err != nil {
		return nil, nil, nil, nodeRefusal(action, err)
	}
	return unsigned, signBytes, decoded, nil
}

// signedBatch checks, audits and broadcasts a signed PUBLISH_MULTIPLE_QDN_RESOURCES
// prompt. As Hub, it answers the list of processed transactions, or, when some were
// not accepted, which ones and why.
func (g *Gateway) signedBatch(w http.ResponseWriter, r *http.Request, u claims, appID string, pub ed25519.PublicKey, token string, in []signedTx) {
	const action = "PUBLISH_MULTIPLE_QDN_RESOURCES"
	if len(in) == 0 || len(in) > maxBatch {
		g.refuse(w, action, "bad_token", action+": these are not the transactions the gateway built for you: ask again")
		return
	}
	raw := make([][]byte, len(in))
	sigs := make([][]byte, len(in))
	for i, t := range in {
		b, err1 := qortal.Base58Decode(strings.TrimSpace(t.Unsigned))
		s, err2 := qortal.Base58Decode(strings.TrimSpace(t.Signature))
		if err1 != nil || err2 != nil {
			g.refuse(w, action, "bad_signature", "the signatures do not verify over the transactions")
			return
		}
		raw[i], sigs[i] = b, s
	}
	c, err := g.prompts.check(token, "p", g.now())
	if err != nil || c.User != u.User || c.Address != u.Address || c.App != appID || c.Sid != u.Sid || c.Action != action ||
		c.Hash != base64.RawURLEncoding.EncodeToString(batchHash(raw)) {
		g.refuse(w, action, "bad_token", action+": these are not the transactions the gateway built for you (or the prompt expired): ask again")
		return
	}
	for i := range raw {
		msg, err := qortal.SigningBytes(raw[i])
		if err != nil || len(sigs[i]) != ed25519.SignatureSize || !ed25519.Verify(pub, msg, sigs[i]) {
			g.refuse(w, action, "bad_signature", fmt.Sprintf("the signature of transaction %d does not verify", i))
			return
		}
	}
	sig58 := make([]string, len(raw))
	for i := range sigs {
		sig58[i] = qortal.Base58Encode(sigs[i])
	}
	detail, _ := json.Marshal(map[string]any{"action": action, "address": u.Address, "process": true, "transactions": len(raw), "signatures": sig58})
	if err := g.store.AppendAudit(r.Context(), store.AuditEntry{Actor: "user:" + u.User, Action: "qapp.sign", Subject: appID, Detail: string(detail)}); err != nil {
		g.jsonError(w, http.StatusServiceUnavailable, "store_unavailable", "cannot audit the signature right now, so nothing was sent")
		return
	}
	g.count("action", "signed")
	var (
		done   []json.RawMessage
		failed []map[string]any
	)
	for i := range raw {
		ctx, cancel := context.WithTimeout(r.Context(), g.opt.NodeTimeout)
		res, err := g.node.ProcessV2(ctx, qortal.Base58Encode(append(append([]byte{}, raw[i]...), sigs[i]...)))
		cancel()
		if err != nil {
			failed = append(failed, map[string]any{"index": i, "reason": broadcastFailure(err)})
			continue
		}
		done = append(done, res)
	}
	if len(failed) > 0 {
		apierror.WriteJSON(w, http.StatusOK, bridgeAnswer{Error: &bridgeErr{Code: "broadcast_failed",
			Message: fmt.Sprintf("%d of %d resources were not published", len(failed), len(raw)), Unsuccessful: failed}})
		return
	}
	apierror.WriteJSON(w, http.StatusOK, bridgeAnswer{Result: done})
}

// signedTx is one signed transaction of a batch.
type signedTx struct {
	Unsigned  string `json:"unsignedBytes"`
	Signature string `json:"signature"`
}
