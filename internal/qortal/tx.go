package qortal

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Unsigned transactions the Q-Apps gateway builds for a signed-in user, byte for byte as
// core v6.1.x serialises them (transform/transaction/*TransactionTransformer.java,
// big-endian). Every layout starts with TransactionTransformer.transformCommonBytes:
//
//	int32 type | int64 timestamp ms | int32 txGroupId | 64 reference | 32 creator public key
//
// and ends with int64 fee; the signature (64 bytes) is appended after that and covers
// everything before it, except for ARBITRARY (see ArbitrarySigningBytes). The node is
// always asked to decode what was built (with its validity checks) before a user sees it,
// so a layout mistake surfaces as a refusal, never as a signed surprise.
const (
	TxPayment    = 2
	TxCreatePoll = 8
	TxVoteOnPoll = 9
	TxArbitrary  = 10
	TxChat       = 18
	TxJoinGroup  = 31
)

// ErrTx is matched by every builder and parser failure in this file.
var ErrTx = errors.New("invalid Qortal transaction")

// TxBase is what every transaction starts with.
type TxBase struct {
	Timestamp time.Time         // stored with millisecond precision
	TxGroupID int32             // 0 = no group
	Reference []byte            // 64 bytes (the account's last reference), or nil for zeros
	Creator   ed25519.PublicKey // the account that must sign
	Fee       int64             // in 1e-8 QORT
}

func (t TxBase) appendCommon(b []byte, typ uint32) ([]byte, error) {
	if len(t.Creator) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: creator public key must be %d bytes", ErrTx, ed25519.PublicKeySize)
	}
	if t.Reference != nil && len(t.Reference) != referenceLen {
		return nil, fmt.Errorf("%w: reference must be %d bytes", ErrTx, referenceLen)
	}
	if t.Fee < 0 {
		return nil, fmt.Errorf("%w: negative fee", ErrTx)
	}
	b = binary.BigEndian.AppendUint32(b, typ)
	b = binary.BigEndian.AppendUint64(b, uint64(t.Timestamp.UnixMilli()))
	b = binary.BigEndian.AppendUint32(b, uint32(t.TxGroupID))
	if t.Reference != nil {
		b = append(b, t.Reference...)
	} else {
		b = append(b, make([]byte, referenceLen)...)
	}
	return append(b, t.Creator...), nil
}

func appendAddress(b []byte, field, addr string) ([]byte, error) {
	if err := ValidateAddress(addr); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrTx, field, err)
	}
	raw, _ := Base58Decode(addr)
	return append(b, raw...), nil
}

// appendSizedString is Serialization.serializeSizedString: int32 length, UTF-8.
func appendSizedString(b []byte, field, s string, maxLen int) ([]byte, error) {
	if !utf8.ValidString(s) || len(s) > maxLen {
		return nil, fmt.Errorf("%w: %s must be valid UTF-8 of at most %d bytes", ErrTx, field, maxLen)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...), nil
}

// BuildPaymentTx is PaymentTransactionTransformer.toBytes:
// common | 25 recipient | int64 amount | int64 fee.
func BuildPaymentTx(t TxBase, recipient string, amount int64) ([]byte, error) {
	if amount <= 0 {
		return nil, fmt.Errorf("%w: amount must be positive", ErrTx)
	}
	b, err := t.appendCommon(make([]byte, 0, 160), TxPayment)
	if err == nil {
		b, err = appendAddress(b, "recipient", recipient)
	}
	if err != nil {
		return nil, err
	}
	b = binary.BigEndian.AppendUint64(b, uint64(amount))
	return binary.BigEndian.AppendUint64(b, uint64(t.Fee)), nil
}

// BuildJoinGroupTx is JoinGroupTransactionTransformer.toBytes: common | int32 groupId | int64 fee.
func BuildJoinGroupTx(t TxBase, groupID int32) ([]byte, error) {
	if groupID <= 0 {
		return nil, fmt.Errorf("%w: group id must be positive", ErrTx)
	}
	b, err := t.appendCommon(make([]byte, 0, 128), TxJoinGroup)
	if err != nil {
		return nil, err
	}
	b = binary.BigEndian.AppendUint32(b, uint32(groupID))
	return binary.BigEndian.AppendUint64(b, uint64(t.Fee)), nil
}

// Core's limits (voting/Poll.java MAX_NAME_SIZE, MAX_DESCRIPTION_SIZE, MAX_OPTIONS; an
// option name is read with MAX_NAME_SIZE too; ChatTransaction.MAX_DATA_SIZE).
const (
	MaxPollName        = 400
	MaxPollDescription = 4000
	MaxPollOptions     = 100
	MaxPollOptionName  = 400
	MaxChatData        = 4000
)

// BuildVoteOnPollTx is VoteOnPollTransactionTransformer.toBytes:
// common | sized pollName | int32 optionIndex | int64 fee.
func BuildVoteOnPollTx(t TxBase, pollName string, optionIndex int32) ([]byte, error) {
	if pollName == "" || optionIndex < 0 {
		return nil, fmt.Errorf("%w: a poll name and a non-negative option index are needed", ErrTx)
	}
	b, err := t.appendCommon(make([]byte, 0, 160+len(pollName)), TxVoteOnPoll)
	if err == nil {
		b, err = appendSizedString(b, "poll name", pollName, MaxPollName)
	}
	if err != nil {
		return nil, err
	}
	b = binary.BigEndian.AppendUint32(b, uint32(optionIndex))
	return binary.BigEndian.AppendUint64(b, uint64(t.Fee)), nil
}

// BuildCreatePollTx is CreatePollTransactionTransformer.toBytes: common | 25 owner |
// sized pollName | sized description | int32 option count | sized option names | int64 fee.
func BuildCreatePollTx(t TxBase, owner, pollName, description string, options []string) ([]byte, error) {
	if pollName == "" || len(options) == 0 || len(options) > MaxPollOptions {
		return nil, fmt.Errorf("%w: a poll needs a name and 1 to %d options", ErrTx, MaxPollOptions)
	}
	b, err := t.appendCommon(make([]byte, 0, 256), TxCreatePoll)
	if err == nil {
		b, err = appendAddress(b, "owner", owner)
	}
	if err == nil {
		b, err = appendSizedString(b, "poll name", pollName, MaxPollName)
	}
	if err == nil {
		b, err = appendSizedString(b, "poll description", description, MaxPollDescription)
	}
	if err != nil {
		return nil, err
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(options)))
	for _, o := range options {
		if o == "" {
			return nil, fmt.Errorf("%w: an empty poll option", ErrTx)
		}
		if b, err = appendSizedString(b, "poll option", o, MaxPollOptionName); err != nil {
			return nil, err
		}
	}
	return binary.BigEndian.AppendUint64(b, uint64(t.Fee)), nil
}

// TxHeader is the common part of unsigned transaction bytes.
type TxHeader struct {
	Type      int32
	Timestamp int64
	TxGroupID int32
	Reference []byte
	Creator   ed25519.PublicKey
}

const commonLen = 4 + 8 + 4 + referenceLen + ed25519.PublicKeySize

// ParseTxHeader reads the common part every transaction starts with.
func ParseTxHeader(b []byte) (TxHeader, error) {
	if len(b) < commonLen {
		return TxHeader{}, fmt.Errorf("%w: %d bytes is too short", ErrTx, len(b))
	}
	return TxHeader{
		Type:      int32(binary.BigEndian.Uint32(b)),
		Timestamp: int64(binary.BigEndian.Uint64(b[4:])),
		TxGroupID: int32(binary.BigEndian.Uint32(b[12:])),
		Reference: b[16 : 16+referenceLen : 16+referenceLen],
		Creator:   ed25519.PublicKey(b[16+referenceLen : commonLen : commonLen]),
	}, nil
}

// SigningBytes are the bytes a user's signature covers for unsigned transaction bytes:
// the bytes themselves, except for ARBITRARY (ArbitrarySigningBytes).
func SigningBytes(unsigned []byte) ([]byte, error) {
	h, err := ParseTxHeader(unsigned)
	if err != nil {
		return nil, err
	}
	if h.Type == TxArbitrary {
		return ArbitrarySigningBytes(unsigned)
	}
	return unsigned, nil
}

// ArbitrarySigningBytes is ArbitraryTransactionTransformer.toBytesForSigningImpl for a
// version 5 ARBITRARY transaction (every transaction since 2021): the same fields as
// toBytes but without the data-type byte, and with RAW_DATA replaced by its SHA-256
// (the data length field keeps the raw length). Unsigned v5 layout:
//
//	common | int32 nonce | sizedV2 name | sizedV2 identifier | int32 method |
//	int32 secretLen | secret | int32 compression | int32 paymentCount | payments (25
//	recipient, int64 assetId, int64 amount each) | int32 service | byte isRaw |
//	int32 dataLen | data | int32 size | int32 metadataHashLen | metadataHash | int64 fee
func ArbitrarySigningBytes(unsigned []byte) ([]byte, error) {
	r := &txReader{b: unsigned}
	common := r.take(commonLen, "header")
	if r.err == nil && binary.BigEndian.Uint32(common) != TxArbitrary {
		return nil, fmt.Errorf("%w: not an ARBITRARY transaction", ErrTx)
	}
	r.take(4, "nonce")
	for _, f := range []string{"name", "identifier"} {
		r.take(int(r.uint32(f+" length")), f)
	}
	r.take(4, "method")
	r.take(int(r.uint32("secret length")), "secret")
	r.take(4, "compression")
	payments := r.uint32("payment count")
	if payments > 1000 {
		return nil, fmt.Errorf("%w: %d payments", ErrTx, payments)
	}
	r.take(int(payments)*(AddressLen+8+8), "payments")
	r.take(4, "service")
	beforeRaw := r.off
	isRaw := r.bool("data type")
	dataLen := r.uint32("data length")
	data := r.take(int(dataLen), "data")
	r.take(4, "size")
	r.take(int(r.uint32("metadata hash length")), "metadata hash")
	r.take(8, "fee")
	if r.err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTx, r.err)
	}
	if r.off != len(unsigned) {
		return nil, fmt.Errorf("%w: %d trailing bytes (signed already?)", ErrTx, len(unsigned)-r.off)
	}
	out := make([]byte, 0, len(unsigned))
	out = append(out, unsigned[:beforeRaw]...)
	out = binary.BigEndian.AppendUint32(out, dataLen)
	if isRaw {
		sum := sha256.Sum256(data)
		out = append(out, sum[:]...)
	} else {
		out = append(out, data...)
	}
	return append(out, unsigned[beforeRaw+1+4+int(dataLen):]...), nil
}
