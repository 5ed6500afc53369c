// Package link joins the public *engine.Client and the protocol client
// behind it.
//
// Package engine fills Unwrap and Wrap when it is initialised. Every
// package that is handed an *engine.Client imports engine, so both are set
// before any of them is called. The hooks keep the protocol client out of
// every exported signature without an import cycle.
package link

import "github.com/berth-go/berth/internal/wire"

var (
	// Unwrap is set by package engine; it takes an *engine.Client.
	Unwrap func(engineClient any) *wire.Client
	// Wrap is set by package engine; it returns the *engine.Client of w,
	// the same one every time.
	Wrap func(w *wire.Client) any
)

// Wire returns the protocol client behind c, an *engine.Client.
func Wire(c any) *wire.Client { return Unwrap(c) }
