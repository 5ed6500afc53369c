package berth_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/wait"
)

// TestHealthcheck gives a busybox container (no HEALTHCHECK in the image)
// a check of its own and waits for it: without the builder's Healthcheck
// the wait fails at once with wait.ErrNoHealthcheck.
func TestHealthcheck(t *testing.T) {
	h := berth.New(t)
	start := time.Now()
	c := h.Container(busybox).
		Cmd("sh", "-c", "sleep 0.3; touch /tmp/ready; exec sleep 600").
		Healthcheck(container.Healthcheck{Test: []string{"CMD-SHELL", "test -f /tmp/ready"}, Interval: 100 * time.Millisecond, Retries: 50}).
		WaitFor(wait.ForHealthy()).
		Start()
	st, err := c.State(t.Context())
	require.NoError(t, err)
	require.Equal(t, "healthy", st.Health)
	t.Logf("healthy after %v", time.Since(start))

	_, err = h.Container(busybox).Cmd("sleep", "600").
		Healthcheck(container.Healthcheck{Test: []string{"NONE"}}).
		WaitFor(wait.ForHealthy()).StartE(t.Context())
	require.ErrorIs(t, err, wait.ErrNoHealthcheck, "a NONE test turns the check off")

	for _, hc := range []container.Healthcheck{
		{},
		{Test: []string{"true"}},
		{Test: []string{"CMD"}},
		{Test: []string{"CMD", "true"}, Interval: time.Microsecond},
		{Test: []string{"CMD", "true"}, Retries: -1},
	} {
		_, err := h.Container(busybox).Healthcheck(hc).StartE(t.Context())
		var se *container.SpecError
		if !errors.As(err, &se) || se.Field != "Healthcheck" {
			t.Errorf("Healthcheck(%+v): got %v, want a *container.SpecError for Healthcheck", hc, err)
		}
	}
}
