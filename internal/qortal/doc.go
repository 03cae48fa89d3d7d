// Package qortal implements the parts of Qortal's account identity the broker needs:
// Base58, Q-addresses, Ed25519 key/signature parsing and verification, and MESSAGE
// transactions for wallets that can only sign transactions.
//
// Why Ed25519 and not secp256k1: a Qortal account (the thing a Q-address names) is an
// Ed25519 key pair (core's crypto/Crypto.java, BouncyCastle Ed25519, RFC 8032 without
// prehash). Qortal Hub also holds secp256k1 keys, but only for the foreign-coin wallets
// (BTC, LTC, DOGE, ...) it derives for trading; those keys have no Q-address and nothing
// on chain ties them to one, so a secp256k1 signature cannot prove who owns an account.
//
// Address format: Base58 (Bitcoin alphabet) of 25 bytes,
//
//	0x3A || RIPEMD160(SHA256(publicKey)) || SHA256(SHA256(0x3A || hash))[:4]
//
// which prints as 34 characters starting with 'Q'. A public key is only published on
// chain after an account's first transaction, so proofs carry the key and the broker
// derives the address from it rather than looking the key up.
package qortal
