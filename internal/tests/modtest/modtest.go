// Package modtest is what the modules' tests share against the real
// engine: the leftover check, the table of bad builder input every module
// refuses before it makes anything, the check of a start that must fail
// fast (and a table of them), servers started at once, a server's life in a session, and a peer
// container that reaches a server on a network.
package modtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/tests/testenv"
	"github.com/berth-go/berth/modules/modkit"
	"github.com/berth-go/berth/network"
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

// Case is a builder given bad input, or input its server fails on: Build
// makes the call, Want is a word the error must hold.
type Case[B any] struct {
	Name  string
	Build func(B) B
	Want  string
}

// eachCase runs check for each case in a parallel test of its own, on a
// fresh harness and the builder newB makes there, given the case's call.
func eachCase[B any](t *testing.T, newB func(*berth.Harness) B, cases []Case[B],
	check func(t *testing.T, h *berth.Harness, b B, want string)) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			h := berth.New(t)
			check(t, h, tc.Build(newB(h)), tc.Want)
		})
	}
}

// BadInput runs each case in a parallel test of its own, on a builder from
// newB: the builder records modkit.ErrInvalidInput, startE (the module's
// StartE, e.g. (*redis.Builder).StartE) returns it and makes nothing, and
// the error holds Want but no secret.
func BadInput[B interface{ Err() error }, C any](t *testing.T, newB func(*berth.Harness) B,
	startE func(B, context.Context) (C, error), cases []Case[B]) {
	t.Helper()
	eachCase(t, newB, cases, func(t *testing.T, h *berth.Harness, b B, want string) {
		require.ErrorIs(t, b.Err(), modkit.ErrInvalidInput)
		_, err := startE(b, t.Context())
		require.ErrorIs(t, err, modkit.ErrInvalidInput)
		assert.Contains(t, err.Error(), want)
		noSecret(t, err)
		NoLeftovers(t, h)
	})
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

// FailedStarts runs each case in a parallel test of its own, on a builder
// from newB: the builder, given the case's call, must fail to start the
// way StartFails checks (told within within, the error holding Want and no
// secret, no container left). startE is the module's StartE, e.g.
// (*mysql.Builder).StartE.
func FailedStarts[B, C any](t *testing.T, within time.Duration, newB func(*berth.Harness) B,
	startE func(B, context.Context) (C, error), cases []Case[B]) {
	t.Helper()
	eachCase(t, newB, cases, func(t *testing.T, h *berth.Harness, b B, want string) {
		StartFails(t, h, within, func(ctx context.Context) (C, error) { return startE(b, ctx) }, want)
	})
}

// Instances runs each in n parallel subtests, named "0" to n-1 and given
// their number: each starts a server of its own, and must find it apart
// from the others'.
func Instances(t *testing.T, n int, each func(t *testing.T, i int)) {
	t.Helper()
	for i := range n {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			each(t, i)
		})
	}
}

// GoneWithSession checks a module's server in a *berth.Session, the
// scope of a TestMain or a tool: start makes it in a session of its own,
// and reach (one round trip of the module's client, its I/O bounded) must
// work while the session is open and fail once Close returned.
func GoneWithSession[C any](t *testing.T, start func(context.Context, *berth.Session) (C, error),
	reach func(context.Context, C) error) {
	t.Helper()
	ctx := t.Context()
	s, err := berth.NewSession(ctx)
	require.NoError(t, err)
	defer s.Close(context.Background())
	srv, err := start(ctx, s)
	require.NoError(t, err)
	require.NoError(t, reach(ctx, srv), "the server answers in its session")
	require.NoError(t, s.Close(ctx))
	require.Error(t, reach(ctx, srv), "the server is gone with its session")
}

// ExecOnNetwork runs cmd in a fresh container of image on net, the way
// another container of a stack reaches a server there by its alias, and
// returns what cmd wrote to stdout. The container's entrypoint is sleep,
// so any image with the client tools serves. It fails t when cmd cannot
// run or exits non-zero, showing its stderr.
func ExecOnNetwork(t *testing.T, h *berth.Harness, net *network.Network, image string, cmd ...string) string {
	t.Helper()
	peer := h.Container(image).Entrypoint("sleep", "3600").Network(net).Start()
	res, err := peer.Exec(t.Context(), cmd)
	require.NoError(t, err)
	require.Equal(t, 0, res.ExitCode, "%q: %s", cmd, res.Stderr)
	return string(res.Stdout)
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

// Warmed is a started server of a module with warm starts: the embedded
// *berth.Container gives both methods.
type Warmed interface {
	WarmResult() *container.WarmResult
	LogsSnapshot(ctx context.Context) (container.Output, error)
}

// WarmStart starts a server twice with the same fresh input, a nonce that
// start puts into the server (an init script's row): the first start must
// miss and fill the warm cache in the background (its image goes when t
// ends), the second, once the fill is done, must hit it. It returns the warm server, the nonce and the warm server's log, for
// the module's own checks, and logs how long the warm start took.
func WarmStart[C Warmed](t *testing.T, start func(h *berth.Harness, nonce string) C) (warm C, nonce, log string) {
	t.Helper()
	if !berth.WarmEnabled() {
		t.Skip("BERTH_WARM=0")
	}
	t.Parallel()
	forget := testenv.RemoveImages(t)
	h := berth.New(t)
	// A fresh input per run: the first start must fill the cache.
	nonce = fmt.Sprintf("n%d", time.Now().UnixNano())

	cold := start(h, nonce)
	res := cold.WarmResult()
	require.NotNil(t, res)
	forget(res.Image)
	assert.False(t, res.Hit, "the first start fills the cache")
	require.NoError(t, res.Filled(t.Context()), "the cache fills in the background")

	began := time.Now()
	warm = start(h, nonce)
	took := time.Since(began)
	res2 := warm.WarmResult()
	require.NotNil(t, res2)
	assert.True(t, res2.Hit, "the second start uses the cache")
	assert.Equal(t, res.Image, res2.Image)
	logs, err := warm.LogsSnapshot(t.Context())
	require.NoError(t, err)
	t.Logf("warm start to ready: %s", took)
	return warm, nonce, string(logs.Stdout) + string(logs.Stderr)
}
