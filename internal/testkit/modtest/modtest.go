// Package modtest is what the modules' tests share against the real
// engine: the leftover check, the table of bad builder input every module
// refuses before it makes anything, and the check of a start that must
// fail fast.
package modtest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/testkit/testenv"
	"github.com/berth-go/berth/modules/modkit"
)

// Secret is the password the tests give their servers. No error may hold
// it, nor its first word, "hunter2".
const Secret = "hunter2-secret"

// NoLeftovers fails t when a container of h's session made by t is left.
func NoLeftovers(t *testing.T, h *berth.Harness) {
	t.Helper()
	left := testenv.Left(t, h.Engine(), h.Session().ID(), t.Name(), engine.KindContainer)
	assert.Empty(t, left)
}

// Case is a builder given bad input: Build makes the call, Want is a word
// the error must hold.
type Case[B any] struct {
	Name  string
	Build func(B) B
	Want  string
}

// BadInput runs each case in a parallel test of its own, on a builder from
// newB: the builder records modkit.ErrInvalidInput, startE (the module's
// StartE, e.g. (*redis.Builder).StartE) returns it and makes nothing, and
// the error holds Want but no secret.
func BadInput[B interface{ Err() error }, C any](t *testing.T, newB func(*berth.Harness) B,
	startE func(B, context.Context) (C, error), cases []Case[B]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			h := berth.New(t)
			b := tc.Build(newB(h))
			require.ErrorIs(t, b.Err(), modkit.ErrInvalidInput)
			_, err := startE(b, t.Context())
			require.ErrorIs(t, err, modkit.ErrInvalidInput)
			assert.Contains(t, err.Error(), tc.Want)
			noSecret(t, err)
			NoLeftovers(t, h)
		})
	}
}

// StartFails runs startE (a builder's StartE, a server that cannot come
// up) under a ctx of twice within, and checks the failure is told within
// within (the wait saw the server die instead of running into its ctx),
// holds want and no secret, and leaves no container of h. It returns the
// error for the caller's own checks.
func StartFails[C any](t *testing.T, h *berth.Harness, within time.Duration,
	startE func(context.Context) (C, error), want string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*within)
	defer cancel()
	start := time.Now()
	_, err := startE(ctx)
	require.Error(t, err)
	assert.Less(t, time.Since(start), within, "a dead server is reported without waiting for the timeout")
	assert.False(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
	assert.Contains(t, err.Error(), want)
	noSecret(t, err)
	NoLeftovers(t, h)
	return err
}

func noSecret(t *testing.T, err error) {
	t.Helper()
	first, _, _ := strings.Cut(Secret, "-")
	assert.NotContains(t, err.Error(), first)
}

// StartToReady times start, a module's New(h)...StartE, from the call
// until the server is ready, b.N times on one harness; each server is
// removed outside the timer.
func StartToReady[C interface {
	Remove(context.Context) error
}](b *testing.B, start func(h *berth.Harness, ctx context.Context) (C, error)) {
	h := berth.New(b)
	for b.Loop() {
		c, err := start(h, b.Context())
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := c.Remove(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
