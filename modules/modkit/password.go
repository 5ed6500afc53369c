package modkit

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
)

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
