package qortal

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

// coreLayout serialises a MessageTx field by field following core's
// MessageTransactionTransformer.toBytes, written independently of BuildMessageTx so the
// two can check each other. It returns the unsigned bytes.
func coreLayout(m MessageTx) []byte {
	var w bytes.Buffer
	put := func(v any) { _ = binary.Write(&w, binary.BigEndian, v) }
	put(int32(17))
	put(m.Timestamp)
	put(m.TxGroupID)
	w.Write(m.Reference)
	w.Write(m.SenderPublicKey)
	put(m.Nonce)
	if m.Recipient != "" {
		raw, _ := Base58Decode(m.Recipient)
		w.WriteByte(1)
		w.Write(raw)
	} else {
		w.WriteByte(0)
	}
	put(m.Amount)
	if m.Amount != 0 {
		put(m.AssetID)
	}
	put(int32(len(m.Data)))
	w.Write(m.Data)
	put(m.IsEncrypted)
	put(m.IsText)
	put(m.Fee)
	return w.Bytes()
}

type testSigner struct {
	priv ed25519.PrivateKey
	pub  ed25519.PublicKey
}

func signerFor(tb testing.TB, name string) testSigner {
	tb.Helper()
	priv58, _, _, _, _ := loadVectors(tb).account(tb, name)
	priv, err := ParsePrivateKey(priv58)
	if err != nil {
		tb.Fatal(err)
	}
	return testSigner{priv, priv.Public().(ed25519.PublicKey)}
}

// signed returns unsigned||signature, as Hub's SIGN_TRANSACTION does.
func (s testSigner) signed(unsigned []byte) []byte {
	return append(append([]byte{}, unsigned...), ed25519.Sign(s.priv, unsigned)...)
}

func TestBuildMessageTxMatchesCoreLayout(t *testing.T) {
	alice := signerFor(t, "alice")
	bobAddr := loadVectors(t).Accounts[1].Address
	ref := bytes.Repeat([]byte{0xAB}, 64)
	ts := time.UnixMilli(1_700_000_000_123)
	for _, recipient := range []string{"", bobAddr} {
		p := MessageTxParams{
			Timestamp: ts, TxGroupID: 7, Reference: ref, SenderPublicKey: alice.pub, Nonce: -2,
			Recipient: recipient, Data: []byte("login challenge 42"), IsText: true, Fee: 100000,
		}
		got, err := BuildMessageTx(p)
		if err != nil {
			t.Fatal(err)
		}
		want := coreLayout(MessageTx{
			Timestamp: ts.UnixMilli(), TxGroupID: 7, Reference: ref, SenderPublicKey: alice.pub, Nonce: -2,
			Recipient: recipient, Data: p.Data, IsText: true, Fee: 100000,
		})
		if !bytes.Equal(got, want) {
			t.Fatalf("recipient %q:\n got %x\nwant %x", recipient, got, want)
		}
	}
}

func TestMessageTxRoundTrip(t *testing.T) {
	alice := signerFor(t, "alice")
	bobAddr := loadVectors(t).Accounts[1].Address
	ts := time.UnixMilli(1_712_345_678_901)
	unsigned, err := BuildMessageTx(MessageTxParams{
		Timestamp: ts, SenderPublicKey: alice.pub, Recipient: bobAddr, Data: []byte("challenge"), IsText: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	signed := alice.signed(unsigned)
	m, err := DecodeSignedMessageTx(Base58Encode(signed))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Verify(); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	switch {
	case !m.Time().Equal(ts), m.Timestamp != ts.UnixMilli():
		t.Errorf("timestamp %d", m.Timestamp)
	case !bytes.Equal(m.SenderPublicKey, alice.pub), m.SenderAddress() != loadVectors(t).Accounts[0].Address:
		t.Errorf("sender %x", m.SenderPublicKey)
	case string(m.Data) != "challenge", !m.IsText, m.IsEncrypted:
		t.Errorf("data %q text %v encrypted %v", m.Data, m.IsText, m.IsEncrypted)
	case m.Recipient != bobAddr, m.Amount != 0, m.Fee != 0, !bytes.Equal(m.Reference, make([]byte, 64)):
		t.Errorf("recipient %s amount %d fee %d", m.Recipient, m.Amount, m.Fee)
	case !bytes.Equal(m.UnsignedBytes, unsigned), !bytes.Equal(m.Signature, signed[len(unsigned):]):
		t.Errorf("unsigned bytes or signature differ")
	}
	signed[0] ^= 0xFF // the parsed copy must not alias the input
	if m.UnsignedBytes[0] != 0 {
		t.Error("MessageTx aliases its input")
	}
}

func TestMessageTxVerifyFails(t *testing.T) {
	alice, bob := signerFor(t, "alice"), signerFor(t, "bob")
	unsigned, err := BuildMessageTx(MessageTxParams{Timestamp: time.Now(), SenderPublicKey: alice.pub, Data: []byte("c")})
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseSignedMessageTx(bob.signed(unsigned))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Verify(); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("signature by bob for alice's transaction: %v", err)
	}
	// A changed data byte must break alice's own signature.
	good := alice.signed(unsigned)
	bad := append([]byte{}, good...)
	bad[len(unsigned)-8-2-1] ^= 1 // last data byte
	m, err = ParseSignedMessageTx(bad)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Verify(); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("tampered data: %v", err)
	}
}

func TestParseSignedMessageTxPayment(t *testing.T) {
	// BuildMessageTx never adds payments, but wallets may hand one back; the assetId field
	// then appears and must be read, exactly as core does when amount != 0.
	alice := signerFor(t, "alice")
	rcpt := loadVectors(t).Accounts[1].Address
	in := MessageTx{
		Timestamp: 1, Reference: make([]byte, 64), SenderPublicKey: alice.pub,
		Recipient: rcpt, Amount: -5, AssetID: 3, Data: []byte{0, 1, 2}, IsEncrypted: true, Fee: 1,
	}
	m, err := ParseSignedMessageTx(alice.signed(coreLayout(in)))
	if err != nil {
		t.Fatal(err)
	}
	if m.Amount != -5 || m.AssetID != 3 || !bytes.Equal(m.Data, in.Data) || !m.IsEncrypted || m.IsText || m.Recipient != rcpt {
		t.Fatalf("parsed %+v", m)
	}
	if err := m.Verify(); err != nil {
		t.Fatal(err)
	}
}

func TestParseSignedMessageTxErrors(t *testing.T) {
	alice := signerFor(t, "alice")
	base := MessageTx{Timestamp: 1, Reference: make([]byte, 64), SenderPublicKey: alice.pub, Data: []byte("abc"), IsText: true}
	good := alice.signed(coreLayout(base))
	mutate := func(f func(b []byte) []byte) []byte { return f(append([]byte{}, good...)) }
	dataLenOff := 4 + 8 + 4 + 64 + 32 + 4 + 1 + 8
	bobAddr := loadVectors(t).Accounts[1].Address
	tests := []struct {
		name string
		in   []byte
	}{
		{"nil", nil},
		{"unsigned only", coreLayout(base)},
		{"trailing byte", append(append([]byte{}, good...), 0)},
		{"payment type", mutate(func(b []byte) []byte { b[3] = 2; return b })},
		{"hasRecipient 2", mutate(func(b []byte) []byte { b[dataLenOff-9] = 2; return b })},
		{"isText 2", mutate(func(b []byte) []byte { b[len(b)-64-8-1] = 2; return b })},
		// With a recipient the empty-data transaction is long enough to reach the data check.
		{"data length 0", alice.signed(coreLayout(MessageTx{Reference: make([]byte, 64), SenderPublicKey: alice.pub, Recipient: bobAddr}))},
		{"data length too large", alice.signed(coreLayout(MessageTx{Reference: make([]byte, 64), SenderPublicKey: alice.pub, Data: make([]byte, MaxMessageData+1)}))},
		{"data length negative", mutate(func(b []byte) []byte { b[dataLenOff] = 0xFF; return b })},
		{"data length past end", mutate(func(b []byte) []byte { b[dataLenOff+3] = 200; return b })},
		{"hasRecipient set without room", mutate(func(b []byte) []byte { b[dataLenOff-9] = 1; return b })},
		{"amount set, no asset id", mutate(func(b []byte) []byte { b[dataLenOff-1] = 1; return b })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseSignedMessageTx(tc.in); !errors.Is(err, ErrMessageTx) {
				t.Fatalf("ParseSignedMessageTx = %v, want ErrMessageTx", err)
			}
		})
	}
	for n := 0; n < len(good); n++ { // every truncation fails cleanly
		if _, err := ParseSignedMessageTx(good[:n]); !errors.Is(err, ErrMessageTx) {
			t.Fatalf("truncated to %d bytes: %v", n, err)
		}
	}
	if _, err := DecodeSignedMessageTx(" " + Base58Encode(good)); !errors.Is(err, ErrMessageTx) || !errors.Is(err, ErrBase58Char) {
		t.Fatalf("DecodeSignedMessageTx with space: %v", err)
	}
}

func TestBuildMessageTxErrors(t *testing.T) {
	alice := signerFor(t, "alice")
	ok := MessageTxParams{SenderPublicKey: alice.pub, Data: []byte("x")}
	tests := []struct {
		name string
		edit func(*MessageTxParams)
	}{
		{"short key", func(p *MessageTxParams) { p.SenderPublicKey = p.SenderPublicKey[:31] }},
		{"short reference", func(p *MessageTxParams) { p.Reference = make([]byte, 63) }},
		{"empty data", func(p *MessageTxParams) { p.Data = nil }},
		{"data too long", func(p *MessageTxParams) { p.Data = make([]byte, MaxMessageData+1) }},
		{"negative fee", func(p *MessageTxParams) { p.Fee = -1 }},
		{"bad recipient", func(p *MessageTxParams) { p.Recipient = "QgV4s3xnzLhVBEJxcYui4u4q11yhUHsd9w" }},
	}
	if _, err := BuildMessageTx(ok); err != nil {
		t.Fatalf("baseline: %v", err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := ok
			tc.edit(&p)
			if b, err := BuildMessageTx(p); !errors.Is(err, ErrMessageTx) || b != nil {
				t.Fatalf("BuildMessageTx = %x, %v", b, err)
			}
		})
	}
	p := ok
	p.Data = make([]byte, MaxMessageData)
	p.Recipient = loadVectors(t).Accounts[1].Address
	b, err := BuildMessageTx(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseSignedMessageTx(alice.signed(b)); err != nil {
		t.Fatalf("largest buildable transaction does not parse: %v", err)
	}
}

func FuzzParseSignedMessageTx(f *testing.F) {
	alice := signerFor(f, "alice")
	v := loadVectors(f)
	for _, rcpt := range []string{"", v.Accounts[1].Address} {
		unsigned, err := BuildMessageTx(MessageTxParams{
			Timestamp: time.UnixMilli(1_700_000_000_000), SenderPublicKey: alice.pub, Recipient: rcpt,
			Data: []byte("qortal-oidc challenge"), IsText: true,
		})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(alice.signed(unsigned))
	}
	f.Add(alice.signed(coreLayout(MessageTx{Reference: make([]byte, 64), SenderPublicKey: alice.pub, Amount: 1, AssetID: 0, Data: []byte{1}})))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseSignedMessageTx(b)
		if err != nil {
			if !errors.Is(err, ErrMessageTx) {
				t.Fatalf("error %v does not match ErrMessageTx", err)
			}
			return
		}
		// Accepted input must be canonical: re-serialising the fields gives the same bytes.
		if re := coreLayout(m); !bytes.Equal(re, m.UnsignedBytes) {
			t.Fatalf("re-serialised\n%x\nparsed unsigned\n%x", re, m.UnsignedBytes)
		}
		if !bytes.Equal(append(append([]byte{}, m.UnsignedBytes...), m.Signature...), b) {
			t.Fatal("unsigned||signature differs from input")
		}
		if len(m.Data) < 1 || len(m.Data) > MaxMessageData {
			t.Fatalf("data length %d accepted", len(m.Data))
		}
		_ = m.Verify() // must not panic
	})
}

func BenchmarkParseSignedMessageTx(b *testing.B) {
	alice := signerFor(b, "alice")
	unsigned, err := BuildMessageTx(MessageTxParams{Timestamp: time.Now(), SenderPublicKey: alice.pub, Data: bytes.Repeat([]byte("c"), 64), IsText: true})
	if err != nil {
		b.Fatal(err)
	}
	signed := alice.signed(unsigned)
	b.ReportAllocs()
	for b.Loop() {
		m, err := ParseSignedMessageTx(signed)
		if err != nil || m.Verify() != nil {
			b.Fatal(err)
		}
	}
}
