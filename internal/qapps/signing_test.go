package qapps

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/qortalnode/nodefake"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// builtEnv is a gateway whose app may use every built action, with a group, a poll and
// a second account on the node.
func builtEnv(t *testing.T) (*env, string) {
	t.Helper()
	e := newEnv(t)
	actions := append([]string{"SIGN_TRANSACTION"}, builtActions...)
	if _, err := NewCatalog(e.st, e.gw.node.(Node)).Update(t.Context(), "admin:test", e.app.ID, Input{Actions: &actions}); err != nil {
		t.Fatal(err)
	}
	bobPub, _, _ := ed25519.GenerateKey(nil)
	bob := qortal.AddressFromPublicKey(bobPub)
	e.node.AddAccount(nodefake.Account{Address: bob, PublicKey: qortal.Base58Encode(bobPub), Balance: "1.00000000"})
	e.node.RegisterName("Bob", bob)
	e.node.AddGroup(nodefake.Group{ID: 7, Name: "Readers", Members: []string{bob}})
	e.node.AddPoll(nodefake.Poll{Name: "colour", Owner: bob, Options: []string{"red", "blue"}})
	return e, bob
}

func (e *env) bridgeReq(r map[string]any, extra ...any) map[string]any {
	e.t.Helper()
	body := map[string]any{"request": r}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i].(string)] = extra[i+1]
	}
	st, out := e.post("/bridge/"+e.app.ID, body)
	if st != 200 {
		e.t.Fatalf("bridge %v = %d %v", r, st, out)
	}
	return out
}

func code(out map[string]any) string {
	m, _ := out["error"].(map[string]any)
	c, _ := m["code"].(string)
	return c
}

// signPrompt signs a prompt as the launcher does (signBytes when given).
func (e *env) signPrompt(p map[string]any, priv ed25519.PrivateKey) map[string]any {
	e.t.Helper()
	toSign := p["unsignedBytes"].(string)
	if sb, _ := p["signBytes"].(string); sb != "" {
		toSign = sb
	}
	msg, err := qortal.Base58Decode(toSign)
	if err != nil {
		e.t.Fatal(err)
	}
	return map[string]any{"action": p["action"], "unsignedBytes": p["unsignedBytes"], "token": p["token"], "process": p["process"],
		"publicKey": qortal.Base58Encode(priv.Public().(ed25519.PublicKey)), "signature": qortal.Base58Encode(ed25519.Sign(priv, msg))}
}

func prompt(t *testing.T, out map[string]any) map[string]any {
	t.Helper()
	p, _ := out["sign"].(map[string]any)
	if p == nil {
		t.Fatalf("no sign prompt: %v", out)
	}
	return p
}

func TestBridgeBuiltActions(t *testing.T) {
	e, bob := builtEnv(t)
	me := e.user.Address
	pub := e.priv.Public().(ed25519.PublicKey)
	cases := []struct {
		name    string
		req     map[string]any
		decoded map[string]any // fields the node's decode must show
		effect  func() bool
	}{
		{"SEND_COIN to an address", map[string]any{"action": "SEND_COIN", "coin": "QORT", "recipient": bob, "amount": 1.5},
			map[string]any{"type": "PAYMENT", "recipient": bob, "amount": "1.50000000", "fee": "0.01000000", "creatorAddress": me},
			func() bool { return e.node.Balance(bob) == "2.50000000" && e.node.Balance(me) == "1.74000000" }},
		{"SEND_COIN to a name", map[string]any{"action": "SEND_COIN", "coin": "qort", "destinationAddress": "bob", "amount": "0.25"},
			map[string]any{"type": "PAYMENT", "recipient": bob, "amount": "0.25000000"},
			func() bool { return e.node.Balance(bob) == "2.75000000" }},
		{"JOIN_GROUP", map[string]any{"action": "JOIN_GROUP", "groupId": 7},
			map[string]any{"type": "JOIN_GROUP", "groupId": float64(7), "joinerPublicKey": qortal.Base58Encode(pub)},
			func() bool { m := e.node.GroupMembers(7); return len(m) == 2 && m[1] == me }},
		{"SEND_CHAT_MESSAGE to the group", map[string]any{"action": "SEND_CHAT_MESSAGE", "groupId": "7", "message": "hello <b>all</b>"},
			map[string]any{"type": "CHAT", "txGroupId": float64(7), "isEncrypted": false, "isText": true, "nonce": float64(4242)},
			func() bool {
				c := e.node.Chats()
				return len(c) == 1 && c[0].GroupID == 7 && c[0].Sender == me && strings.Contains(c[0].Data, `"text":"hello \u003cb\u003eall\u003c/b\u003e"`)
			}},
		{"VOTE_ON_POLL", map[string]any{"action": "VOTE_ON_POLL", "pollName": "colour", "optionIndex": 1},
			map[string]any{"type": "VOTE_ON_POLL", "pollName": "colour", "optionIndex": float64(1)},
			func() bool { return e.node.PollVotes("colour")[me] == 1 }},
		{"CREATE_POLL", map[string]any{"action": "CREATE_POLL", "pollName": "lunch", "pollDescription": "Where?", "pollOptions": []any{"here", "there"}, "pollOwnerAddress": me},
			map[string]any{"type": "CREATE_POLL", "pollName": "lunch", "owner": me, "description": "Where?"},
			func() bool { return e.node.PollVotes("lunch") != nil }},
		{"PUBLISH_QDN_RESOURCE", map[string]any{"action": "PUBLISH_QDN_RESOURCE", "service": "DOCUMENT", "identifier": "notes", "filename": "notes.txt",
			"title": "Notes", "data64": base64.StdEncoding.EncodeToString([]byte("my notes"))},
			map[string]any{"type": "ARBITRARY", "name": "Alice", "identifier": "notes", "service": float64(800), "dataType": "DATA_HASH", "size": float64(8)},
			func() bool {
				res := e.bridgeReq(map[string]any{"action": "FETCH_QDN_RESOURCE", "service": "DOCUMENT", "name": "Alice", "identifier": "notes", "filepath": "notes.txt"})
				return res["result"] == "my notes"
			}},
	}
	for i, c := range cases {
		p := prompt(t, e.bridgeReq(c.req))
		if p["action"] != c.req["action"] || p["process"] != true || p["token"] == "" {
			t.Fatalf("%s: prompt %v", c.name, p)
		}
		dec, _ := p["decoded"].(map[string]any)
		for k, want := range c.decoded {
			if dec[k] != want {
				t.Errorf("%s: decoded %s = %v, want %v (decoded %v)", c.name, k, dec[k], want, dec)
			}
		}
		if _, arbitrary := p["signBytes"]; arbitrary != (c.req["action"] == "PUBLISH_QDN_RESOURCE") {
			t.Errorf("%s: signBytes present = %v", c.name, arbitrary)
		}
		if n := len(e.node.Processed()); n != i {
			t.Fatalf("%s: %d broadcast before the user signed", c.name, n)
		}
		_, out := e.post("/bridge/"+e.app.ID+"/signed", e.signPrompt(p, e.priv))
		res, _ := out["result"].(map[string]any)
		if res == nil || res["type"] != c.decoded["type"] || res["signature"] == nil {
			t.Fatalf("%s: signed = %v", c.name, out)
		}
		if !c.effect() {
			t.Errorf("%s: the node did not apply the transaction", c.name)
		}
	}
	if got := testutil.ToFloat64(e.gw.requests.WithLabelValues("action", "signed")); got != float64(len(cases)) {
		t.Errorf("signed metric = %v", got)
	}
	var signs []string
	page, _ := e.st.ListAudit(t.Context(), store.ListOptions{Limit: 500})
	for _, a := range page.Entries {
		if a.Action == "qapp.sign" {
			var d map[string]any
			_ = json.Unmarshal([]byte(a.Detail), &d)
			signs = append(signs, d["action"].(string))
		}
	}
	if len(signs) != len(cases) {
		t.Errorf("audited signatures: %v", signs)
	}
}

func TestBridgeBuiltActionRefusals(t *testing.T) {
	e, bob := builtEnv(t)
	for name, c := range map[string]struct {
		req  map[string]any
		code string
		in   string // the message names this
	}{
		"foreign coin":        {map[string]any{"action": "SEND_COIN", "coin": "BTC", "recipient": bob, "amount": 1}, "unsupported_coin", "QORT"},
		"no coin":             {map[string]any{"action": "SEND_COIN", "recipient": bob, "amount": 1}, "invalid_request", "coin"},
		"no amount":           {map[string]any{"action": "SEND_COIN", "coin": "QORT", "recipient": bob}, "invalid_request", "amount"},
		"negative amount":     {map[string]any{"action": "SEND_COIN", "coin": "QORT", "recipient": bob, "amount": -1}, "invalid_request", "amount"},
		"9 decimals":          {map[string]any{"action": "SEND_COIN", "coin": "QORT", "recipient": bob, "amount": "0.000000001"}, "invalid_request", "amount"},
		"no recipient":        {map[string]any{"action": "SEND_COIN", "coin": "QORT", "amount": 1}, "invalid_request", "recipient"},
		"unknown recipient":   {map[string]any{"action": "SEND_COIN", "coin": "QORT", "recipient": "nobody-here", "amount": 1}, "invalid_request", "recipient"},
		"too much":            {map[string]any{"action": "SEND_COIN", "coin": "QORT", "recipient": bob, "amount": 100}, "invalid_transaction", "NO_BALANCE"},
		"bad group id":        {map[string]any{"action": "JOIN_GROUP", "groupId": "seven"}, "invalid_request", "groupId"},
		"unknown group":       {map[string]any{"action": "JOIN_GROUP", "groupId": 99}, "invalid_transaction", "GROUP_DOES_NOT_EXIST"},
		"direct message":      {map[string]any{"action": "SEND_CHAT_MESSAGE", "recipient": bob, "message": "hi"}, "unsupported_encryption", "group"},
		"chat nowhere":        {map[string]any{"action": "SEND_CHAT_MESSAGE", "message": "hi"}, "invalid_request", "groupId"},
		"empty chat":          {map[string]any{"action": "SEND_CHAT_MESSAGE", "groupId": 7}, "invalid_request", "message"},
		"chat not a member":   {map[string]any{"action": "SEND_CHAT_MESSAGE", "groupId": 7, "message": "hi"}, "invalid_transaction", "NOT_GROUP_MEMBER"},
		"bad chat reference":  {map[string]any{"action": "SEND_CHAT_MESSAGE", "groupId": 7, "message": "hi", "chatReference": "xyz"}, "invalid_request", "chatReference"},
		"no poll name":        {map[string]any{"action": "VOTE_ON_POLL", "optionIndex": 0}, "invalid_request", "pollName"},
		"no option":           {map[string]any{"action": "VOTE_ON_POLL", "pollName": "colour"}, "invalid_request", "optionIndex"},
		"option out of range": {map[string]any{"action": "VOTE_ON_POLL", "pollName": "colour", "optionIndex": 5}, "invalid_transaction", "POLL_OPTION_DOES_NOT_EXIST"},
		"poll options":        {map[string]any{"action": "CREATE_POLL", "pollName": "p", "pollDescription": "d", "pollOptions": []any{"a", 3}}, "invalid_request", "pollOptions"},
		"poll for another":    {map[string]any{"action": "CREATE_POLL", "pollName": "p", "pollDescription": "d", "pollOptions": []any{"a"}, "pollOwnerAddress": bob}, "invalid_request", "pollOwnerAddress"},
		"publish no service":  {map[string]any{"action": "PUBLISH_QDN_RESOURCE", "data64": "aGk="}, "invalid_request", "service"},
		"publish no data":     {map[string]any{"action": "PUBLISH_QDN_RESOURCE", "service": "DOCUMENT"}, "invalid_request", "data64"},
		"publish a file":      {map[string]any{"action": "PUBLISH_QDN_RESOURCE", "service": "DOCUMENT", "file": map[string]any{}}, "invalid_request", "file"},
		"publish bad base64":  {map[string]any{"action": "PUBLISH_QDN_RESOURCE", "service": "DOCUMENT", "data64": "%%%"}, "invalid_request", "data64"},
		"publish as bob":      {map[string]any{"action": "PUBLISH_QDN_RESOURCE", "service": "DOCUMENT", "name": "Bob", "data64": "aGk="}, "name_not_owned", "Bob"},
		"publish encrypted":   {map[string]any{"action": "PUBLISH_QDN_RESOURCE", "service": "DOCUMENT", "encrypt": true, "data64": "aGk=", "publicKeys": []any{"x"}}, "unsupported_encryption", "private key"},
	} {
		out := e.bridgeReq(c.req)
		msg, _ := out["error"].(map[string]any)["error"].(string)
		if code(out) != c.code || !strings.Contains(msg, c.in) {
			t.Errorf("%s: %v, want %s naming %q", name, out, c.code, c.in)
		}
	}
	if n := len(e.node.Processed()); n != 0 {
		t.Errorf("%d refused requests broadcast", n)
	}
}

func TestBuiltBytesAreBoundToTheirPrompt(t *testing.T) {
	e, bob := builtEnv(t)
	pay := prompt(t, e.bridgeReq(map[string]any{"action": "SEND_COIN", "coin": "QORT", "recipient": bob, "amount": 0.5}))
	join := prompt(t, e.bridgeReq(map[string]any{"action": "JOIN_GROUP", "groupId": 7}))
	signed := e.signPrompt(pay, e.priv)

	// Other bytes under this prompt's token (an app asking for a small payment and
	// handing in a bigger one), this prompt's bytes under another action, no token,
	// another user's token: all refused, nothing broadcast.
	pub := e.priv.Public().(ed25519.PublicKey)
	bigger, _ := qortal.BuildPaymentTx(qortal.TxBase{Creator: pub, Fee: 1_000_000}, bob, 200_000_000)
	swapped := e.signPrompt(map[string]any{"action": "SEND_COIN", "unsignedBytes": qortal.Base58Encode(bigger), "token": pay["token"], "process": true}, e.priv)
	crossed := e.signPrompt(map[string]any{"action": "SEND_COIN", "unsignedBytes": pay["unsignedBytes"], "token": join["token"], "process": true}, e.priv)
	noToken := e.signPrompt(map[string]any{"action": "SEND_COIN", "unsignedBytes": pay["unsignedBytes"], "process": true}, e.priv)
	other := claims{Kind: "s", User: "mallory", Address: bob, Expires: e.user.Expires}
	foreign := e.signPrompt(map[string]any{"action": "SEND_COIN", "unsignedBytes": pay["unsignedBytes"], "process": true,
		"token": e.gw.promptToken(other, e.app.ID, "SEND_COIN", mustB58(t, pay["unsignedBytes"]))}, e.priv)
	asSignTx := e.signPrompt(map[string]any{"action": "SIGN_TRANSACTION", "unsignedBytes": pay["unsignedBytes"], "process": false}, e.priv)
	_, wrongKey, _ := ed25519.GenerateKey(nil)
	for name, body := range map[string]map[string]any{
		"swapped bytes": swapped, "token of another action": crossed, "no token": noToken, "another user's token": foreign,
		"wrong key": e.signPrompt(pay, wrongKey),
	} {
		if _, out := e.post("/bridge/"+e.app.ID+"/signed", body); code(out) == "" {
			t.Errorf("%s: accepted: %v", name, out)
		}
	}
	if n := len(e.node.Processed()); n != 0 {
		t.Fatalf("%d broadcast", n)
	}
	// SIGN_TRANSACTION (allowed here) returns signed bytes but broadcasts nothing.
	if _, out := e.post("/bridge/"+e.app.ID+"/signed", asSignTx); out["result"] == nil || len(e.node.Processed()) != 0 {
		t.Errorf("SIGN_TRANSACTION of built bytes = %v", out)
	}
	if _, out := e.post("/bridge/"+e.app.ID+"/signed", signed); out["result"] == nil || len(e.node.Processed()) != 1 {
		t.Errorf("the right prompt = %v", out)
	}
	// An action the admin did not allow is refused before anything is built.
	if _, err := NewCatalog(e.st, e.gw.node.(Node)).Update(t.Context(), "admin:test", e.app.ID, Input{Actions: &[]string{"JOIN_GROUP"}}); err != nil {
		t.Fatal(err)
	}
	if c := code(e.bridgeReq(map[string]any{"action": "SEND_COIN", "coin": "QORT", "recipient": bob, "amount": 0.5})); c != "action_not_allowed" {
		t.Errorf("not allowed = %s", c)
	}
	if _, out := e.post("/bridge/"+e.app.ID+"/signed", e.signPrompt(pay, e.priv)); code(out) != "action_not_allowed" {
		t.Errorf("signed after the admin withdrew the action = %v", out)
	}
}

func mustB58(t *testing.T, v any) []byte {
	t.Helper()
	b, err := qortal.Base58Decode(v.(string))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPublicKeyFromTheLauncher(t *testing.T) {
	e, bob := builtEnv(t)
	// An account that never made a transaction: the node does not know its key.
	e.node.AddAccount(nodefake.Account{Address: e.user.Address, Balance: "3.25000000"})
	req := map[string]any{"action": "SEND_COIN", "coin": "QORT", "recipient": bob, "amount": 1, "publicKey": qortal.Base58Encode(make([]byte, 32))}
	if c := code(e.bridgeReq(req)); c != "public_key_needed" {
		t.Fatalf("without the key = %s (a key in the app's request is never used)", c)
	}
	otherPub, _, _ := ed25519.GenerateKey(nil)
	if c := code(e.bridgeReq(req, "publicKey", qortal.Base58Encode(otherPub))); c != "wrong_key" {
		t.Errorf("another account's key = %s", c)
	}
	pub := e.priv.Public().(ed25519.PublicKey)
	p := prompt(t, e.bridgeReq(req, "publicKey", qortal.Base58Encode(pub)))
	if _, out := e.post("/bridge/"+e.app.ID+"/signed", e.signPrompt(p, e.priv)); out["result"] == nil {
		t.Fatalf("signed = %v", out)
	}
	// Now on chain.
	if pk, _ := e.gw.node.PublicKey(t.Context(), e.user.Address); pk != qortal.Base58Encode(pub) {
		t.Errorf("public key after the first transaction = %q", pk)
	}
}

func TestBridgePublishMultiple(t *testing.T) {
	e, _ := builtEnv(t)
	res := func(id, text string) map[string]any {
		return map[string]any{"service": "DOCUMENT", "identifier": id, "filename": id + ".txt", "data64": base64.StdEncoding.EncodeToString([]byte(text))}
	}
	for name, c := range map[string]struct {
		req  map[string]any
		code string
		in   string
	}{
		"no resources":     {map[string]any{"action": "PUBLISH_MULTIPLE_QDN_RESOURCES"}, "invalid_request", "resources"},
		"one without data": {map[string]any{"action": "PUBLISH_MULTIPLE_QDN_RESOURCES", "resources": []any{res("a", "A"), map[string]any{"service": "DOCUMENT"}}}, "invalid_request", "resources[1]: data64"},
		"encrypted":        {map[string]any{"action": "PUBLISH_MULTIPLE_QDN_RESOURCES", "encrypt": true, "resources": []any{res("a", "A")}}, "unsupported_encryption", "private key"},
	} {
		out := e.bridgeReq(c.req)
		msg, _ := out["error"].(map[string]any)["error"].(string)
		if code(out) != c.code || !strings.Contains(msg, c.in) {
			t.Errorf("%s: %v, want %s naming %q", name, out, c.code, c.in)
		}
	}
	p := prompt(t, e.bridgeReq(map[string]any{"action": "PUBLISH_MULTIPLE_QDN_RESOURCES", "resources": []any{res("one", "first"), res("two", "second")}}))
	txs, _ := p["transactions"].([]any)
	var shown []map[string]any
	if err := json.Unmarshal(mustJSON(t, p["decoded"]), &shown); err != nil || len(txs) != 2 || len(shown) != 2 || shown[1]["identifier"] != "two" {
		t.Fatalf("batch prompt %v", p)
	}
	pub := e.priv.Public().(ed25519.PublicKey)
	sign := func(items []any, overUnsigned bool) []any {
		var out []any
		for _, it := range items {
			m := it.(map[string]any)
			msg := mustB58(t, m["signBytes"])
			if overUnsigned {
				msg = mustB58(t, m["unsignedBytes"])
			}
			out = append(out, map[string]any{"unsignedBytes": m["unsignedBytes"], "signature": qortal.Base58Encode(ed25519.Sign(e.priv, msg))})
		}
		return out
	}
	body := func(items []any) map[string]any {
		return map[string]any{"action": "PUBLISH_MULTIPLE_QDN_RESOURCES", "publicKey": qortal.Base58Encode(pub), "token": p["token"], "process": true, "transactions": items}
	}
	for name, b := range map[string]map[string]any{
		"reordered":             body(sign([]any{txs[1], txs[0]}, false)),
		"one left out":          body(sign(txs[:1], false)),
		"signed unsigned bytes": body(sign(txs, true)),
	} {
		if _, out := e.post("/bridge/"+e.app.ID+"/signed", b); code(out) == "" {
			t.Errorf("%s: accepted: %v", name, out)
		}
	}
	if n := len(e.node.Processed()); n != 0 {
		t.Fatalf("%d broadcast", n)
	}
	_, out := e.post("/bridge/"+e.app.ID+"/signed", body(sign(txs, false)))
	if list, _ := out["result"].([]any); len(list) != 2 || list[0].(map[string]any)["type"] != "ARBITRARY" {
		t.Fatalf("signed batch = %v", out)
	}
	for id, text := range map[string]string{"one": "first", "two": "second"} {
		got := e.bridgeReq(map[string]any{"action": "FETCH_QDN_RESOURCE", "service": "DOCUMENT", "name": "Alice", "identifier": id, "filepath": id + ".txt"})
		if got["result"] != text {
			t.Errorf("%s = %v", id, got)
		}
	}
	// Sent again, the node refuses what it already has, reported per resource as Hub does.
	_, out = e.post("/bridge/"+e.app.ID+"/signed", body(sign(txs, false)))
	if failed, _ := out["error"].(map[string]any)["unsuccessfulPublishes"].([]any); code(out) != "broadcast_failed" || len(failed) != 2 ||
		!strings.Contains(failed[0].(map[string]any)["reason"].(string), "TRANSACTION_ALREADY_EXISTS") {
		t.Errorf("replayed batch = %v", out)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseAmount(t *testing.T) {
	for in, want := range map[any]int64{1.5: 150_000_000, 0.1 + 0.2: 30_000_000, 10.0: 1_000_000_000, "0.00000001": 1, "12": 1_200_000_000,
		0.000000001: 0, "0.000000001": 0, -1.0: 0, "1e3": 0, "": 0, true: 0} {
		got, ok := parseAmount(in)
		if want == 0 && ok || want != 0 && (!ok || got != want) {
			t.Errorf("parseAmount(%v) = %d, %v; want %d", in, got, ok, want)
		}
	}
}
