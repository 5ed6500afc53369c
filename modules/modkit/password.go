package modkit

import (
	"crypto/rand"
	"encoding/hex"
)

// RandomPassword returns 24 random hex digits, a default password for a
// server whose module makes one: strong enough that no test passes by
// guessing it, plain enough for every URL, DSN and configuration file.
func RandomPassword() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // never fails: see crypto/rand.Read
	return hex.EncodeToString(b[:])
}
