package nats_test

import (
	"testing"

	"github.com/berth-go/berth"
)

// TestMain fails the binary when a test leaves a resource of the shared
// session behind.
func TestMain(m *testing.M) { berth.Main(m) }
