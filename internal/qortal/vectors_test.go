package qortal

import (
	"encoding/json"
	"os"
	"testing"
)

// vectors mirrors testdata/qortal-vectors.json, which comes from Qortal core's own tests.
type vectors struct {
	Accounts []struct {
		Name          string `json:"name"`
		PrivateKey58  string `json:"privateKey58"`
		PrivateKeyHex string `json:"privateKeyHex"`
		PublicKey58   string `json:"publicKey58"`
		PublicKeyHex  string `json:"publicKeyHex"`
		Address       string `json:"address"`
	} `json:"accounts"`
	PublicKeyToAddress []struct {
		PublicKeyHex string `json:"publicKeyHex"`
		Address      string `json:"address"`
	} `json:"publicKeyToAddress"`
	TransactionSignature struct {
		Signer      string `json:"signer"`
		MessageHex  string `json:"messageHex"`
		Signature58 string `json:"signature58"`
	} `json:"transactionSignature"`
}

const vectorsPath = "../../testdata/qortal-vectors.json"

func loadVectors(tb testing.TB) vectors {
	tb.Helper()
	raw, err := os.ReadFile(vectorsPath)
	if err != nil {
		tb.Fatalf("read vectors: %v", err)
	}
	var v vectors
	if err := json.Unmarshal(raw, &v); err != nil {
		tb.Fatalf("parse vectors: %v", err)
	}
	if len(v.Accounts) < 2 || v.TransactionSignature.Signature58 == "" {
		tb.Fatalf("vectors file %s looks incomplete", vectorsPath)
	}
	return v
}

// account returns the named account from the vectors.
func (v vectors) account(tb testing.TB, name string) (priv58, privHex, pub58, pubHex, addr string) {
	tb.Helper()
	for _, a := range v.Accounts {
		if a.Name == name {
			return a.PrivateKey58, a.PrivateKeyHex, a.PublicKey58, a.PublicKeyHex, a.Address
		}
	}
	tb.Fatalf("no account %q in vectors", name)
	return
}
