package nextcloud

import (
	"crypto/rand"
	"errors"
	"io"
	"math/big"
	"strings"
)

const (
	pwLength  = 32
	pwUpper   = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	pwLower   = "abcdefghijkmnopqrstuvwxyz"
	pwDigits  = "23456789"
	pwSymbols = "!#%*+-.:=?@_~"
	pwAlpha   = pwUpper + pwLower + pwDigits + pwSymbols
)

// generatePassword returns a uniformly random 32-character password holding
// every character class, so any password_policy setting accepts it. Whole
// candidates are redrawn (not patched) to keep the distribution uniform.
func generatePassword(r io.Reader) (string, error) {
	max := big.NewInt(int64(len(pwAlpha)))
	for tries := 0; tries < 100; tries++ {
		var b strings.Builder
		for i := 0; i < pwLength; i++ {
			n, err := rand.Int(r, max)
			if err != nil {
				return "", err
			}
			b.WriteByte(pwAlpha[n.Int64()])
		}
		pw := b.String()
		if strings.ContainsAny(pw, pwUpper) && strings.ContainsAny(pw, pwLower) &&
			strings.ContainsAny(pw, pwDigits) && strings.ContainsAny(pw, pwSymbols) {
			return pw, nil
		}
	}
	return "", errors.New("random source produced no usable password")
}
