package qortalnode_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/qortalnode"
	"github.com/qortal-oidc/qortal-oidc/internal/qortalnode/nodefake"
)

func account(t *testing.T, n *nodefake.Node, balance string) (string, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(nil)
	addr := qortal.AddressFromPublicKey(pub)
	n.AddAccount(nodefake.Account{Address: addr, PublicKey: qortal.Base58Encode(pub), Balance: balance})
	return addr, priv
}

func signed58(t *testing.T, priv ed25519.PrivateKey, unsigned58 string) string {
	t.Helper()
	u, err := qortal.Base58Decode(unsigned58)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := qortal.SigningBytes(u)
	if err != nil {
		t.Fatal(err)
	}
	return qortal.Base58Encode(append(u, ed25519.Sign(priv, msg)...))
}

// A PAYMENT built as core serialises it: the node decodes it (with validity checks),
// refuses a forged signature, applies it, answers API version 2 with its JSON, and
// the account's last reference and balance move.
func TestPaymentThroughTheNode(t *testing.T) {
	n, c := setup(t)
	alice, priv := account(t, n, "5.00000000")
	bob, _ := account(t, n, "")
	if ref, err := c.LastReference(t.Context(), alice); err != nil || ref != "" {
		t.Fatalf("last reference before any transaction = %q, %v", ref, err)
	}
	fee, err := c.UnitFee(t.Context(), "PAYMENT")
	if err != nil || fee != 1_000_000 {
		t.Fatalf("unit fee = %d, %v", fee, err)
	}
	pub := priv.Public().(ed25519.PublicKey)
	raw, err := qortal.BuildPaymentTx(qortal.TxBase{Timestamp: time.Now(), Creator: pub, Fee: fee}, bob, 2_00000000)
	if err != nil {
		t.Fatal(err)
	}
	u58 := qortal.Base58Encode(raw)
	dec, err := c.Decode(t.Context(), u58)
	var d map[string]any
	_ = json.Unmarshal(dec, &d)
	if err != nil || d["type"] != "PAYMENT" || d["recipient"] != bob || d["amount"] != "2.00000000" || d["creatorAddress"] != alice || d["signature"] != nil {
		t.Fatalf("decode = %s, %v", dec, err)
	}
	forged := qortal.Base58Encode(append(raw, ed25519.Sign(priv, []byte("x"))...))
	var apiErr *qortalnode.APIError
	if _, err := c.ProcessV2(t.Context(), forged); !errors.As(err, &apiErr) || apiErr.Code != 101 {
		t.Errorf("forged = %v", err)
	}
	s58 := signed58(t, priv, u58)
	res, err := c.ProcessV2(t.Context(), s58)
	_ = json.Unmarshal(res, &d)
	if err != nil || d["type"] != "PAYMENT" || d["signature"] == nil {
		t.Fatalf("process = %s, %v", res, err)
	}
	if n.Balance(bob) != "2.00000000" || n.Balance(alice) != "2.99000000" {
		t.Errorf("balances %s %s", n.Balance(alice), n.Balance(bob))
	}
	if ref, _ := c.LastReference(t.Context(), alice); ref != d["signature"] {
		t.Errorf("last reference = %q, want the payment's signature", ref)
	}
	// Too much now: the decode's validity check says so, as core's TRANSACTION_INVALID.
	raw, _ = qortal.BuildPaymentTx(qortal.TxBase{Timestamp: time.Now(), Creator: pub, Fee: fee}, bob, 3_00000000)
	if _, err := c.Decode(t.Context(), qortal.Base58Encode(raw)); !errors.As(err, &apiErr) || apiErr.Code != 312 || !strings.Contains(apiErr.Message, "NO_BALANCE") {
		t.Errorf("overdraft decode = %v", err)
	}
}

func TestChatAndPublishBuiltByTheNode(t *testing.T) {
	n, c := setup(t)
	alice, priv := account(t, n, "5.00000000")
	pub := priv.Public().(ed25519.PublicKey)
	n.AddGroup(nodefake.Group{ID: 3, Name: "G", Members: []string{alice}})
	n.RegisterName("Alice", alice)

	tx := qortalnode.ChatTx{Timestamp: time.Now().UnixMilli(), Reference: qortal.Base58Encode(make([]byte, 64)), Fee: "0", TxGroupID: 3,
		SenderPublicKey: qortal.Base58Encode(pub), Data: qortal.Base58Encode([]byte("hello")), IsText: true}
	noKey, _ := qortalnode.New(n.URL(), "", &http.Client{Timeout: 2 * time.Second})
	if _, err := noKey.BuildChat(t.Context(), tx); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("POST /chat without the API key = %v", err)
	}
	u58, err := c.BuildChat(t.Context(), tx)
	if err != nil {
		t.Fatal(err)
	}
	dec, _ := c.Decode(t.Context(), u58)
	var d map[string]any
	_ = json.Unmarshal(dec, &d)
	if d["type"] != "CHAT" || d["txGroupId"] != float64(3) || d["nonce"] == float64(0) || d["data"] != tx.Data {
		t.Errorf("chat decode = %s", dec)
	}
	if _, err := c.ProcessV2(t.Context(), signed58(t, priv, u58)); err != nil || len(n.Chats()) != 1 || n.Chats()[0].Data != "hello" {
		t.Errorf("chat process = %v, %v", err, n.Chats())
	}

	if owner, err := c.NameOwner(t.Context(), "alice"); err != nil || owner != alice {
		t.Errorf("NameOwner = %q, %v", owner, err)
	}
	if _, err := c.NameOwner(t.Context(), "nobody"); !errors.Is(err, qortalnode.ErrNotFound) {
		t.Errorf("NameOwner(nobody) = %v", err)
	}
	p := qortalnode.Publish{Service: "DOCUMENT", Name: "Alice", Identifier: "doc", Base64: base64.StdEncoding.EncodeToString([]byte("content")),
		Filename: "a.txt", Title: "A", Fee: 1_000_000}
	u58, err = c.BuildPublish(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := qortal.Base58Decode(u58)
	if h, _ := qortal.ParseTxHeader(raw); h.Type != qortal.TxArbitrary || !h.Creator.Equal(pub) {
		t.Fatalf("publish header %+v", h)
	}
	// core checks an ARBITRARY signature over its signing bytes, not the raw bytes.
	if _, err := c.ProcessV2(t.Context(), qortal.Base58Encode(append(raw, ed25519.Sign(priv, raw)...))); err == nil {
		t.Error("an ARBITRARY signed over its unsigned bytes was accepted")
	}
	if _, err := c.ProcessV2(t.Context(), signed58(t, priv, u58)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.LatestVersion(t.Context(), "DOCUMENT", "Alice", "doc"); err != nil {
		t.Errorf("published resource: %v", err)
	}
}
