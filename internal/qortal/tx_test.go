package qortal

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"
	"time"
)

// The PAYMENT in the vectors is the one core's own tests sign: rebuilding it from its
// fields must give the same bytes, and alice's signature over them must verify.
func TestBuildPaymentTxMatchesCoreVector(t *testing.T) {
	v := loadVectors(t)
	want, err := hex.DecodeString(v.TransactionSignature.MessageHex)
	if err != nil {
		t.Fatal(err)
	}
	h, err := ParseTxHeader(want)
	if err != nil || h.Type != TxPayment {
		t.Fatalf("header %+v, %v", h, err)
	}
	rest := want[commonLen:]
	recipient := Base58Encode(rest[:AddressLen])
	amount := int64(binary.BigEndian.Uint64(rest[AddressLen:]))
	fee := int64(binary.BigEndian.Uint64(rest[AddressLen+8:]))
	got, err := BuildPaymentTx(TxBase{Timestamp: time.UnixMilli(h.Timestamp), TxGroupID: h.TxGroupID, Reference: h.Reference, Creator: h.Creator, Fee: fee}, recipient, amount)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("PAYMENT bytes differ from core's:\n got %x\nwant %x", got, want)
	}
	sig, _ := Base58Decode(v.TransactionSignature.Signature58)
	if !ed25519.Verify(h.Creator, got, sig) {
		t.Error("alice's signature from core's tests does not verify over the rebuilt bytes")
	}
	if sb, err := SigningBytes(got); err != nil || !bytes.Equal(sb, got) {
		t.Errorf("a PAYMENT signs its unsigned bytes: %v", err)
	}
}

func testBase(t *testing.T) (TxBase, string) {
	pub, _, _ := ed25519.GenerateKey(nil)
	ref := bytes.Repeat([]byte{7}, 64)
	return TxBase{Timestamp: time.UnixMilli(1_700_000_000_123), TxGroupID: 0, Reference: ref, Creator: pub, Fee: 1_000_000}, AddressFromPublicKey(pub)
}

func common(t *testing.T, b []byte, typ int32, base TxBase) []byte {
	t.Helper()
	h, err := ParseTxHeader(b)
	if err != nil || h.Type != typ || h.Timestamp != base.Timestamp.UnixMilli() || !bytes.Equal(h.Reference, base.Reference) || !h.Creator.Equal(base.Creator) {
		t.Fatalf("header %+v, %v", h, err)
	}
	if fee := int64(binary.BigEndian.Uint64(b[len(b)-8:])); fee != base.Fee {
		t.Errorf("fee %d", fee)
	}
	return b[commonLen : len(b)-8]
}

func sized(s string) []byte { return append(binary.BigEndian.AppendUint32(nil, uint32(len(s))), s...) }

// The other layouts, field by field as their transformers write them.
func TestBuilderLayouts(t *testing.T) {
	base, me := testBase(t)
	join, err := BuildJoinGroupTx(base, 42)
	if err != nil {
		t.Fatal(err)
	}
	if body := common(t, join, TxJoinGroup, base); !bytes.Equal(body, []byte{0, 0, 0, 42}) {
		t.Errorf("JOIN_GROUP body %x", body)
	}
	vote, err := BuildVoteOnPollTx(base, "colour", 3)
	if err != nil {
		t.Fatal(err)
	}
	if body := common(t, vote, TxVoteOnPoll, base); !bytes.Equal(body, append(sized("colour"), 0, 0, 0, 3)) {
		t.Errorf("VOTE_ON_POLL body %x", body)
	}
	poll, err := BuildCreatePollTx(base, me, "lunch", "Where?", []string{"here", "thére"})
	if err != nil {
		t.Fatal(err)
	}
	owner, _ := Base58Decode(me)
	want := append(append([]byte{}, owner...), sized("lunch")...)
	want = append(append(want, sized("Where?")...), 0, 0, 0, 2)
	want = append(append(want, sized("here")...), sized("thére")...)
	if body := common(t, poll, TxCreatePoll, base); !bytes.Equal(body, want) {
		t.Errorf("CREATE_POLL body %x\nwant %x", body, want)
	}
	for name, err := range map[string]error{
		"payment of 0":   second(BuildPaymentTx(base, me, 0)),
		"bad recipient":  second(BuildPaymentTx(base, "Qnope", 1)),
		"group 0":        second(BuildJoinGroupTx(base, 0)),
		"no poll name":   second(BuildVoteOnPollTx(base, "", 0)),
		"long poll name": second(BuildVoteOnPollTx(base, string(bytes.Repeat([]byte{'a'}, MaxPollName+1)), 0)),
		"no options":     second(BuildCreatePollTx(base, me, "p", "d", nil)),
		"empty option":   second(BuildCreatePollTx(base, me, "p", "d", []string{""})),
		"short key":      second(BuildJoinGroupTx(TxBase{Creator: base.Creator[:31]}, 1)),
		"bad reference":  second(BuildJoinGroupTx(TxBase{Creator: base.Creator, Reference: []byte{1}}, 1)),
	} {
		if !errors.Is(err, ErrTx) {
			t.Errorf("%s: %v, want ErrTx", name, err)
		}
	}
}

func second(_ []byte, err error) error { return err }

// arbitrary is a v5 ARBITRARY transaction as ArbitraryTransactionTransformer.toBytes
// writes it, and what toBytesForSigningImpl makes of it.
func arbitrary(base TxBase, raw bool, data []byte) (unsigned, signing []byte) {
	var b []byte
	b = binary.BigEndian.AppendUint32(b, TxArbitrary)
	b = binary.BigEndian.AppendUint64(b, uint64(base.Timestamp.UnixMilli()))
	b = binary.BigEndian.AppendUint32(b, 0)
	b = append(append(b, base.Reference...), base.Creator...)
	b = binary.BigEndian.AppendUint32(b, 0) // nonce
	b = append(append(b, sized("Alice")...), sized("notes")...)
	b = binary.BigEndian.AppendUint32(b, 0)                                          // PUT
	b = append(binary.BigEndian.AppendUint32(b, 32), bytes.Repeat([]byte{5}, 32)...) // secret
	b = binary.BigEndian.AppendUint32(b, 1)                                          // ZIP
	b = binary.BigEndian.AppendUint32(b, 0)                                          // payments
	b = binary.BigEndian.AppendUint32(b, 800)                                        // DOCUMENT
	head := len(b)
	b = append(b, map[bool]byte{true: 1, false: 0}[raw])
	b = append(binary.BigEndian.AppendUint32(b, uint32(len(data))), data...)
	tail := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	tail = append(binary.BigEndian.AppendUint32(tail, 32), bytes.Repeat([]byte{6}, 32)...)
	tail = binary.BigEndian.AppendUint64(tail, uint64(base.Fee))
	unsigned = append(b, tail...)
	signing = binary.BigEndian.AppendUint32(append([]byte{}, b[:head]...), uint32(len(data)))
	if raw {
		h := sha256.Sum256(data)
		signing = append(signing, h[:]...)
	} else {
		signing = append(signing, data...)
	}
	return unsigned, append(signing, tail...)
}

func TestArbitrarySigningBytes(t *testing.T) {
	base, _ := testBase(t)
	for _, raw := range []bool{false, true} {
		data := bytes.Repeat([]byte{9}, 32)
		if raw {
			data = []byte("a small raw resource")
		}
		unsigned, want := arbitrary(base, raw, data)
		got, err := SigningBytes(unsigned)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("raw=%v: signing bytes %x, %v\nwant %x", raw, got, err, want)
		}
		if _, err := ArbitrarySigningBytes(append(unsigned, make([]byte, 64)...)); !errors.Is(err, ErrTx) {
			t.Errorf("raw=%v: signed bytes accepted as unsigned: %v", raw, err)
		}
		if _, err := ArbitrarySigningBytes(unsigned[:len(unsigned)-3]); !errors.Is(err, ErrTx) {
			t.Errorf("raw=%v: truncated bytes accepted: %v", raw, err)
		}
	}
	join, _ := BuildJoinGroupTx(base, 1)
	if _, err := ArbitrarySigningBytes(join); !errors.Is(err, ErrTx) {
		t.Errorf("a JOIN_GROUP as ARBITRARY: %v", err)
	}
}

// SigningBytes never panics on any input, and for an ARBITRARY it accepts, the signing
// form is never longer than the unsigned bytes plus a hash.
func FuzzSigningBytes(f *testing.F) {
	base := TxBase{Timestamp: time.UnixMilli(1), Reference: make([]byte, 64), Creator: make([]byte, 32), Fee: 1}
	for _, raw := range []bool{false, true} {
		u, _ := arbitrary(base, raw, []byte("seed data"))
		f.Add(u)
	}
	j, _ := BuildJoinGroupTx(base, 1)
	f.Add(j)
	f.Add([]byte{0, 0, 0, 10})
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := SigningBytes(b)
		if err == nil && len(out) > len(b)+32 {
			t.Fatalf("signing form of %d bytes is %d", len(b), len(out))
		}
	})
}
