package qortal

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// MESSAGE transactions (type 17) are how a Qortal Hub user can sign a login challenge
// today: Hub's qortalRequest has no "sign message" action, but SIGN_TRANSACTION with
// process:false signs broker-built unsigned bytes and returns
// Base58(unsignedBytes || signature). The layout follows core v6.1.x
// MessageTransactionTransformer (big-endian):
//
//	int32 type=17 | int64 timestamp ms | int32 txGroupId | 64 reference |
//	32 sender public key | int32 nonce | byte hasRecipient [| 25 recipient] |
//	int64 amount [| int64 assetId, present iff amount != 0] | int32 dataLength | data |
//	byte isEncrypted | byte isText | int64 fee || 64 signature
//
// The signature covers everything before it, nonce included (core clears the nonce only
// for its proof-of-work check). Such a transaction is never broadcast by the broker.
const (
	MessageTxType = 17
	// MaxMessageData is core's MessageTransaction.MAX_DATA_SIZE.
	MaxMessageData = 4000
)

const (
	referenceLen       = 64
	messageFixedPrefix = 4 + 8 + 4 + referenceLen + ed25519.PublicKeySize + 4 + 1 // up to hasRecipient
	// Shortest signed MESSAGE: no recipient, no asset id, one data byte.
	minSignedMessageTx = messageFixedPrefix + 8 + 4 + 1 + 1 + 1 + 8 + ed25519.SignatureSize
	maxSignedMessageTx = messageFixedPrefix + AddressLen + 8 + 8 + 4 + MaxMessageData + 1 + 1 + 8 + ed25519.SignatureSize
)

// ErrMessageTx is matched by every ParseSignedMessageTx / BuildMessageTx failure.
var ErrMessageTx = errors.New("not a valid signed Qortal MESSAGE transaction")

// MessageTxParams describes a MESSAGE transaction to build. Payments are not supported:
// a login challenge must never move funds.
type MessageTxParams struct {
	Timestamp       time.Time         // stored with millisecond precision
	TxGroupID       int32             // 0 = no group
	Reference       []byte            // 64 bytes, or nil for all zeros (core ignores it since the reference-check feature trigger)
	SenderPublicKey ed25519.PublicKey // the account expected to sign
	Nonce           int32             // proof-of-work nonce; irrelevant for a transaction that is never broadcast
	Recipient       string            // optional Q-address; "" for none
	Data            []byte            // 1..MaxMessageData bytes, e.g. the challenge text
	IsText          bool
	IsEncrypted     bool
	Fee             int64 // in 1e-8 QORT
}

// BuildMessageTx serialises p as unsigned MESSAGE transaction bytes (the value to Base58
// for SIGN_TRANSACTION's unsignedBytes).
func BuildMessageTx(p MessageTxParams) ([]byte, error) {
	if len(p.Data) < 1 || len(p.Data) > MaxMessageData {
		return nil, fmt.Errorf("%w: data must be 1 to %d bytes, got %d", ErrMessageTx, MaxMessageData, len(p.Data))
	}
	var recipient []byte
	if p.Recipient != "" {
		if err := ValidateAddress(p.Recipient); err != nil {
			return nil, fmt.Errorf("%w: recipient: %w", ErrMessageTx, err)
		}
		recipient, _ = Base58Decode(p.Recipient) // cannot fail after ValidateAddress
	}

	base := TxBase{Timestamp: p.Timestamp, TxGroupID: p.TxGroupID, Reference: p.Reference, Creator: p.SenderPublicKey, Fee: p.Fee}
	b, err := base.appendCommon(make([]byte, 0, maxSignedMessageTx), MessageTxType)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMessageTx, err)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(p.Nonce))
	if recipient != nil {
		b = append(b, 1)
		b = append(b, recipient...)
	} else {
		b = append(b, 0)
	}
	b = binary.BigEndian.AppendUint64(b, 0) // amount; no asset id follows a zero amount
	b = binary.BigEndian.AppendUint32(b, uint32(len(p.Data)))
	b = append(b, p.Data...)
	b = append(b, boolByte(p.IsEncrypted), boolByte(p.IsText))
	b = binary.BigEndian.AppendUint64(b, uint64(p.Fee))
	return b, nil
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// MessageTx is a decoded signed MESSAGE transaction. Its byte slices do not alias the
// parser's input.
type MessageTx struct {
	Timestamp       int64 // milliseconds since the Unix epoch, as on chain
	TxGroupID       int32
	Reference       []byte
	SenderPublicKey ed25519.PublicKey
	Nonce           int32
	Recipient       string // Base58 of the 25 recipient bytes, "" if none (not validated: core does not either)
	Amount          int64
	AssetID         int64 // meaningful only if Amount != 0
	Data            []byte
	IsText          bool
	IsEncrypted     bool
	Fee             int64
	Signature       []byte
	UnsignedBytes   []byte // everything the signature covers
}

// Time returns Timestamp as a time.Time.
func (m MessageTx) Time() time.Time { return time.UnixMilli(m.Timestamp) }

// SenderAddress is the Q-address of the sender key.
func (m MessageTx) SenderAddress() string { return AddressFromPublicKey(m.SenderPublicKey) }

// Verify checks the signature over UnsignedBytes with SenderPublicKey.
func (m MessageTx) Verify() error {
	if !Verify(m.SenderPublicKey, m.UnsignedBytes, m.Signature) {
		return fmt.Errorf("MESSAGE transaction: %w", ErrBadSignature)
	}
	return nil
}

// DecodeSignedMessageTx Base58-decodes s (as SIGN_TRANSACTION returns it; surrounding
// whitespace is not allowed) and parses it with ParseSignedMessageTx.
func DecodeSignedMessageTx(s string) (MessageTx, error) {
	b, err := Base58Decode(s)
	if err != nil {
		return MessageTx{}, fmt.Errorf("%w: %w", ErrMessageTx, err)
	}
	return ParseSignedMessageTx(b)
}

// ParseSignedMessageTx decodes unsignedBytes || signature of a MESSAGE transaction. It
// is stricter than core: booleans must be 0 or 1 and nothing may follow the signature.
// That makes the bytes canonical, so the unsigned bytes here are exactly what Hub signed
// (Hub signs core's re-serialisation from /transactions/convert, which writes booleans
// as 0/1). It does not verify the signature; call Verify.
func ParseSignedMessageTx(b []byte) (MessageTx, error) {
	if len(b) < minSignedMessageTx || len(b) > maxSignedMessageTx {
		return MessageTx{}, fmt.Errorf("%w: length %d outside %d..%d", ErrMessageTx, len(b), minSignedMessageTx, maxSignedMessageTx)
	}
	r := txReader{b: bytes.Clone(b)}
	var m MessageTx
	if t := r.uint32("type"); r.err == nil && t != MessageTxType {
		return MessageTx{}, fmt.Errorf("%w: transaction type %d, want %d", ErrMessageTx, t, MessageTxType)
	}
	m.Timestamp = int64(r.uint64("timestamp"))
	m.TxGroupID = int32(r.uint32("txGroupId"))
	m.Reference = r.take(referenceLen, "reference")
	m.SenderPublicKey = ed25519.PublicKey(r.take(ed25519.PublicKeySize, "sender public key"))
	m.Nonce = int32(r.uint32("nonce"))
	if r.bool("hasRecipient") {
		if rcpt := r.take(AddressLen, "recipient"); rcpt != nil {
			m.Recipient = Base58Encode(rcpt)
		}
	}
	m.Amount = int64(r.uint64("amount"))
	if m.Amount != 0 {
		m.AssetID = int64(r.uint64("assetId"))
	}
	n := r.uint32("data length")
	if r.err == nil && (n < 1 || n > MaxMessageData) {
		return MessageTx{}, fmt.Errorf("%w: data length %d outside 1..%d", ErrMessageTx, int32(n), MaxMessageData)
	}
	m.Data = r.take(int(n), "data")
	m.IsEncrypted = r.bool("isEncrypted")
	m.IsText = r.bool("isText")
	m.Fee = int64(r.uint64("fee"))
	unsignedLen := r.off
	m.Signature = r.take(ed25519.SignatureSize, "signature")
	if r.err != nil {
		return MessageTx{}, fmt.Errorf("%w: %w", ErrMessageTx, r.err)
	}
	if r.off != len(r.b) {
		return MessageTx{}, fmt.Errorf("%w: %d unexpected bytes after the signature", ErrMessageTx, len(r.b)-r.off)
	}
	if err := CheckPublicKey(m.SenderPublicKey); err != nil {
		return MessageTx{}, fmt.Errorf("%w: sender public key: %w", ErrMessageTx, err)
	}
	m.UnsignedBytes = r.b[:unsignedLen:unsignedLen]
	return m, nil
}

// txReader reads big-endian fields and records the first failure instead of panicking,
// so the parser reads straight through and checks once.
type txReader struct {
	b   []byte
	off int
	err error
}

func (r *txReader) take(n int, field string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.off {
		r.err = fmt.Errorf("truncated at %s", field)
		return nil
	}
	v := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return v
}

func (r *txReader) uint32(field string) uint32 {
	if v := r.take(4, field); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (r *txReader) uint64(field string) uint64 {
	if v := r.take(8, field); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func (r *txReader) bool(field string) bool {
	v := r.take(1, field)
	if v == nil {
		return false
	}
	if v[0] > 1 {
		r.err = fmt.Errorf("%s is %d, want 0 or 1", field, v[0])
		return false
	}
	return v[0] == 1
}
