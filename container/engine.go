package container

import (
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/link"
	"github.com/berth-go/berth/internal/wire"
)

// wireOf is the protocol client behind a public engine client.
func wireOf(c *engine.Client) *wire.Client { return link.Wire(c) }

// engineOf is the public engine client of a protocol client.
func engineOf(w *wire.Client) *engine.Client { return link.Wrap(w).(*engine.Client) }
