package qortal

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"

	// RIPEMD-160 is deprecated in x/crypto because it is weak for new designs, but Qortal
	// addresses are defined with it; no substitute yields the same address.
	//lint:ignore SA1019 Qortal's address format requires RIPEMD-160.
	"golang.org/x/crypto/ripemd160"
)

// AddressVersion is the version byte of a Qortal account address (58, which makes the
// Base58 form start with 'Q'). Core also knows 'A' (AT) and 'N' (node) addresses, but no
// one holds a private key for those, so they can never log in and are rejected here.
const AddressVersion byte = 0x3A

// AddressLen is the decoded length of an address: version, 20-byte hash, 4-byte checksum.
const AddressLen = 1 + ripemd160.Size + 4

// maxAddressChars caps the string before decoding: 25 bytes never need more than 35
// Base58 characters, and the cap keeps garbage input cheap to reject.
const maxAddressChars = 40

// Address errors, usable with errors.Is. Their text is shown to end users.
var (
	ErrAddressEncoding = errors.New("address is not valid Base58")
	ErrAddressLength   = errors.New("address has the wrong length: incomplete or extra characters?")
	ErrAddressVersion  = errors.New("not a Qortal account address (it should start with Q)")
	ErrAddressChecksum = errors.New("address checksum does not match: mistyped?")
)

// AddressFromPublicKey derives the Q-address of an Ed25519 account public key:
// Base58(0x3A || RIPEMD160(SHA256(pub)) || SHA256(SHA256(0x3A || hash))[:4]),
// as in core's Crypto.toAddress.
func AddressFromPublicKey(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	h := ripemd160.New()
	h.Write(sum[:])
	var raw [AddressLen]byte
	raw[0] = AddressVersion
	h.Sum(raw[:1]) // appends in place: raw has the capacity
	check := addressChecksum(raw[:1+ripemd160.Size])
	copy(raw[1+ripemd160.Size:], check[:])
	return Base58Encode(raw[:])
}

func addressChecksum(versionAndHash []byte) [4]byte {
	first := sha256.Sum256(versionAndHash)
	second := sha256.Sum256(first[:])
	return [4]byte(second[:4])
}

// ValidateAddress checks that s is a well-formed Qortal account address. It does not
// trim whitespace: a caller that stores or compares the address must use the exact
// string that passed, so trimming is the caller's explicit decision.
func ValidateAddress(s string) error {
	if len(s) > maxAddressChars {
		return ErrAddressLength
	}
	var buf [maxAddressChars]byte
	raw, err := base58Decode(s, buf[:])
	if err != nil {
		if errors.Is(err, ErrBase58Empty) {
			return ErrAddressLength
		}
		return fmt.Errorf("%w: %w", ErrAddressEncoding, err)
	}
	if len(raw) != AddressLen {
		return ErrAddressLength
	}
	if raw[0] != AddressVersion {
		return ErrAddressVersion
	}
	check := addressChecksum(raw[:1+ripemd160.Size])
	if !bytes.Equal(check[:], raw[1+ripemd160.Size:]) {
		return ErrAddressChecksum
	}
	return nil
}
