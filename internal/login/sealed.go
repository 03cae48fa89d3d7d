package login

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"strings"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// Login challenges are sealed rather than stored: the challenge id carries
// what the message was built from, under a MAC every replica can check
// (the key derives from the key encryption key, which replicas share).
// Issuing one costs no store write; it is recorded once, as used, in the
// transaction that completes the login (store.AuthCompletion.Challenge), or
// alone (store.UseChallenge) when the login takes the slower path. The
// record's id is "lc_" + the challenge's random nonce, so "used" is as
// exactly-once across replicas as a stored challenge was.

const (
	sealedPrefix = "lc1."
	recordPrefix = "lc_"
	macLen       = 32
	// maxIDLen bounds challenge ids the API accepts: a sealed id is about
	// 300 bytes with the longest client name and address.
	maxSealedLen = 2048
)

// sealedChallenge is what a sealed id carries. Address is empty in a page
// challenge: one the login page carries from the start (pageChallenge), for
// whatever address the user then gives; the address comes with the proof
// and is part of the message signed, so a signature still proves one
// address. Single use does not depend on it: the record is per nonce.
type sealedChallenge struct {
	AuthRequestID string `json:"a"`
	ClientID      string `json:"c"`
	ClientName    string `json:"n"`
	Address       string `json:"q"`
	Nonce         string `json:"r"`
	IssuedAt      int64  `json:"i"`
	ExpiresAt     int64  `json:"e"`
}

func (h *Handler) sealMAC(payload string) []byte {
	m := hmac.New(sha256.New, h.sealKey)
	io.WriteString(m, "login challenge\x00")
	io.WriteString(m, h.issuer)
	io.WriteString(m, "\x00")
	io.WriteString(m, payload)
	return m.Sum(nil)
}

// seal returns the id of a new challenge.
func (h *Handler) seal(sc sealedChallenge) string {
	raw, _ := json.Marshal(sc) // plain strings and numbers cannot fail
	payload := base64.RawURLEncoding.EncodeToString(raw)
	return sealedPrefix + payload + "." + base64.RawURLEncoding.EncodeToString(h.sealMAC(payload))
}

// open checks a sealed id and returns what it carries; ok is false for
// anything this broker did not seal.
func (h *Handler) open(id string) (sealedChallenge, bool) {
	rest, ok := strings.CutPrefix(id, sealedPrefix)
	if !ok || len(id) > maxSealedLen {
		return sealedChallenge{}, false
	}
	payload, mac64, ok := strings.Cut(rest, ".")
	if !ok {
		return sealedChallenge{}, false
	}
	mac, err := base64.RawURLEncoding.DecodeString(mac64)
	if err != nil || len(mac) != macLen || !hmac.Equal(mac, h.sealMAC(payload)) {
		return sealedChallenge{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	var sc sealedChallenge
	if err != nil || json.Unmarshal(raw, &sc) != nil || sc.Nonce == "" {
		return sealedChallenge{}, false
	}
	return sc, true
}

// challenge is the login challenge sc stands for, with the record id as
// ID (and, for a page challenge, the address its proof named in
// sc.Address).
func (sc sealedChallenge) challenge(issuer string) store.Challenge {
	return store.Challenge{
		ID: recordPrefix + sc.Nonce, Purpose: PurposeLogin, QortalAddress: sc.Address, Message: sc.message(issuer),
		AuthRequestID: sc.AuthRequestID, ClientID: sc.ClientID, CreatedAt: sc.issued(), ExpiresAt: sc.expires(),
	}
}

func (sc sealedChallenge) issued() time.Time  { return time.Unix(sc.IssuedAt, 0).UTC() }
func (sc sealedChallenge) expires() time.Time { return time.Unix(sc.ExpiresAt, 0).UTC() }

func (sc sealedChallenge) params(issuer string) MessageParams {
	return MessageParams{
		Issuer: issuer, ClientName: sc.ClientName, ClientID: sc.ClientID, Address: sc.Address,
		Nonce: sc.Nonce, IssuedAt: sc.issued(), ExpiresAt: sc.expires(),
	}
}

// message is the text signed for sc (with sc.Address, which a page
// challenge gets from the proof).
func (sc sealedChallenge) message(issuer string) string { return BuildMessage(sc.params(issuer)) }

// isSealed reports a challenge obtained from open (rather than the store).
func isSealed(c store.Challenge) bool { return strings.HasPrefix(c.ID, recordPrefix) }

// newSealKey is the key of a handler without a key encryption key (tests,
// a single process): challenges then only open in this process.
func newSealKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
}
