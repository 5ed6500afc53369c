package modkit

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
)

// WarmPassword is the default password of a server whose state outlives
// one start: cached by warm starts, or shared by a run's test binaries.
// The password is part of that state, so a random one would never hit the
// cache nor meet the others' server. Modules export it as their own
// WarmPassword.
const WarmPassword = "berth-warm"

// DefaultPassword is a module's default password: WarmPassword when the
// server's state outlives the start (stable), RandomPassword otherwise.
func DefaultPassword(stable bool) string {
	if stable {
		return WarmPassword
	}
	return RandomPassword()
}

// RandomPassword returns 24 random hex digits, a default password for a
// server whose module makes one: strong enough that no test passes by
// guessing it, plain enough for every URL, DSN and configuration file.
func RandomPassword() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // never fails: see crypto/rand.Read
	return hex.EncodeToString(b[:])
}

// CheckPassword is the rule for a password a module hands to its server:
// not empty, and no NUL or line break, which would cut it short or end
// the line of an environment variable, command or configuration file it
// travels in. The error never holds the password.
func CheckPassword(password string) error {
	switch {
	case password == "":
		return errors.New("the password must not be empty")
	case strings.ContainsAny(password, "\x00\r\n"):
		return errors.New("the password must not contain NUL or line breaks")
	}
	return nil
}
