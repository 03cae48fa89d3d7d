package qortal

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// base58Alphabet is the Bitcoin alphabet, which Qortal core and Qortal Hub use for
// every key, signature and address they show or accept.
const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// MaxBase58Len bounds Base58Decode input. Decoding is quadratic in the input length and
// every caller feeds it user input, so an unbounded string would be a cheap way to burn
// CPU. The largest thing this package decodes is a signed MESSAGE transaction
// (at most 4,236 bytes, about 5,790 characters), which fits with room to spare.
const MaxBase58Len = 8192

// Errors returned by Base58Decode. Invalid characters come back as *Base58CharError,
// which also matches ErrBase58Char with errors.Is.
var (
	ErrBase58Empty   = errors.New("base58: empty string")
	ErrBase58TooLong = fmt.Errorf("base58: input longer than %d characters", MaxBase58Len)
	ErrBase58Char    = errors.New("base58: invalid character")
)

// Base58CharError reports the first character outside the Bitcoin Base58 alphabet.
// People mostly hit this by typing 0, O, I or l, so the message names the character
// and where it is.
type Base58CharError struct {
	Char rune // the offending character (utf8.RuneError for invalid UTF-8)
	Pos  int  // 1-based character (not byte) position, as a person would count
}

func (e *Base58CharError) Error() string {
	return fmt.Sprintf("base58: invalid character %q at position %d", e.Char, e.Pos)
}

// Is makes errors.Is(err, ErrBase58Char) work for any *Base58CharError.
func (e *Base58CharError) Is(target error) bool { return target == ErrBase58Char }

// base58Index maps an ASCII byte to its digit value, or 0xFF if it is not in the alphabet.
var base58Index = func() [256]byte {
	var t [256]byte
	for i := range t {
		t[i] = 0xFF
	}
	for i := 0; i < len(base58Alphabet); i++ {
		t[base58Alphabet[i]] = byte(i)
	}
	return t
}()

// Digits are processed five at a time because 58^5 = 656,356,768 fits in a uint32 limb
// and the limb arithmetic then fits in uint64 without overflow; that is about 5x fewer
// passes over the accumulator than the textbook one-digit-at-a-time loop.
const (
	base58Group = 5
	base58Pow5  = 58 * 58 * 58 * 58 * 58
)

// Base58Encode encodes b with the Bitcoin alphabet; each leading zero byte becomes '1'.
func Base58Encode(b []byte) string {
	zeros := 0
	for zeros < len(b) && b[zeros] == 0 {
		zeros++
	}
	rest := b[zeros:]
	// Each limb holds 5 Base58 digits (~29.3 bits); a byte is 8 bits. The fixed buffers
	// keep keys, signatures and addresses off the heap.
	var limbBuf [24]uint32
	limbs := stackOrHeap(limbBuf[:], len(rest)*8/29+1)
	used := 0 // limbs in use, counted from the least significant end (limbs[len-1])
	// Bytes go in four at a time (a limb < 2^30 shifted by 32 bits still fits in uint64),
	// the first chunk taking the remainder so the rest are whole.
	for start, end := 0, len(rest)%4; start < len(rest); start, end = end, end+4 {
		if end == start {
			end += 4
		}
		var carry uint64
		for _, c := range rest[start:end] {
			carry = carry<<8 | uint64(c)
		}
		shift := uint(8 * (end - start))
		for i := len(limbs) - 1; i >= len(limbs)-used; i-- {
			carry += uint64(limbs[i]) << shift
			limbs[i] = uint32(carry % base58Pow5)
			carry /= base58Pow5
		}
		for carry > 0 {
			used++
			limbs[len(limbs)-used] = uint32(carry % base58Pow5)
			carry /= base58Pow5
		}
	}

	var outBuf [128]byte
	out := stackOrHeap(outBuf[:], zeros+used*base58Group)
	for i := 0; i < zeros; i++ {
		out[i] = '1'
	}
	pos := len(out)
	for i := len(limbs) - 1; i >= len(limbs)-used; i-- {
		v := limbs[i]
		for j := 0; j < base58Group; j++ {
			pos--
			out[pos] = base58Alphabet[v%58]
			v /= 58
		}
	}
	// The most significant limb is zero-padded to five digits; drop that padding,
	// but not the '1's that stand for leading zero bytes.
	start := zeros
	for start < len(out) && out[start] == '1' {
		start++
	}
	copy(out[zeros:], out[start:])
	return string(out[:len(out)-(start-zeros)])
}

// Base58Decode decodes s with the Bitcoin alphabet; each leading '1' becomes a zero byte.
// It rejects the empty string, strings longer than MaxBase58Len and any character outside
// the alphabet (including whitespace: callers decide whether to trim).
func Base58Decode(s string) ([]byte, error) {
	return base58Decode(s, nil)
}

// base58Decode decodes into outBuf when the result fits, so hot callers that only
// inspect the bytes (ValidateAddress) can keep them on the stack.
func base58Decode(s string, outBuf []byte) ([]byte, error) {
	if s == "" {
		return nil, ErrBase58Empty
	}
	if len(s) > MaxBase58Len {
		return nil, ErrBase58TooLong
	}
	for i := 0; i < len(s); i++ {
		if base58Index[s[i]] == 0xFF {
			r, _ := utf8.DecodeRuneInString(s[i:])
			return nil, &Base58CharError{Char: r, Pos: utf8.RuneCountInString(s[:i]) + 1}
		}
	}

	zeros := 0
	for zeros < len(s) && s[zeros] == '1' {
		zeros++
	}
	rest := s[zeros:]
	// log2(58) < 5.86 bits per digit, so this many 32-bit limbs always suffice.
	var limbBuf [24]uint32
	limbs := stackOrHeap(limbBuf[:], len(rest)*586/3200+1)
	used := 0
	for start := 0; start < len(rest); start += base58Group {
		end := min(start+base58Group, len(rest))
		var digits, mul uint64 = 0, 1
		for i := start; i < end; i++ {
			digits = digits*58 + uint64(base58Index[rest[i]])
			mul *= 58
		}
		carry := digits
		for i := len(limbs) - 1; i >= len(limbs)-used; i-- {
			carry += uint64(limbs[i]) * mul
			limbs[i] = uint32(carry)
			carry >>= 32
		}
		for carry > 0 {
			used++
			limbs[len(limbs)-used] = uint32(carry)
			carry >>= 32
		}
	}

	out := stackOrHeap(outBuf, zeros+used*4)
	clear(out[:zeros]) // the leading zero bytes; every other byte is written below
	pos := len(out)
	for i := len(limbs) - 1; i >= len(limbs)-used; i-- {
		v := limbs[i]
		out[pos-1], out[pos-2], out[pos-3], out[pos-4] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
		pos -= 4
	}
	// The top limb may carry up to three zero bytes of padding; they are not part of the
	// number (leading zero bytes are only those spelled as '1').
	start := zeros
	for start < len(out) && out[start] == 0 {
		start++
	}
	copy(out[zeros:], out[start:])
	return out[:len(out)-(start-zeros)], nil
}

// stackOrHeap returns buf[:n] when it fits and a new slice otherwise.
func stackOrHeap[T any](buf []T, n int) []T {
	if n <= len(buf) {
		return buf[:n]
	}
	return make([]T, n)
}
