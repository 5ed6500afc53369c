package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-go/berth/compose"
)

const composeFile = "testdata/compose.yml"

// tcCompose is the testcontainers-go side, a program of its own module
// (tccompose/), built once.
var tcCompose struct {
	once sync.Once
	bin  string
	err  error
}

func tcComposeBin() (string, error) {
	tcCompose.once.Do(func() {
		dir, err := os.MkdirTemp("", "berth-bench-tccompose-")
		if err != nil {
			tcCompose.err = err
			return
		}
		tcCompose.bin = filepath.Join(dir, "tccompose")
		cmd := exec.Command("go", "build", "-o", tcCompose.bin, ".")
		cmd.Dir = "tccompose"
		if b, err := cmd.CombinedOutput(); err != nil {
			tcCompose.err = fmt.Errorf("build tccompose: %v: %s", err, firstLine(string(b)))
		}
	})
	return tcCompose.bin, tcCompose.err
}

// composeScenario: the same Compose file to ready (every healthcheck
// passed, the migration exited 0) with berth's compose package and with
// testcontainers-go's compose module (docker compose v5 as a library).
// Both remove the stack after the measurement.
func composeScenario(e *env) scenario {
	return scenario{name: "compose file up to ready (postgres, redis, migration, app)", goal: "≤ 1.00× tc-go", base: "testcontainers-go", contenders: []contender{
		{"berth", func(ctx context.Context) (time.Duration, func(), error) {
			return timed(func() (func(), error) {
				st, err := compose.UpE(ctx, e.s, composeFile)
				if err != nil {
					return nil, err
				}
				return func() { st.Down(context.Background()) }, nil
			})
		}},
		{"testcontainers-go", func(ctx context.Context) (time.Duration, func(), error) {
			bin, err := tcComposeBin()
			if err != nil {
				return 0, nil, err
			}
			cmd := exec.CommandContext(ctx, bin, "-file", composeFile)
			cmd.Stderr = nil
			out, err := cmd.Output()
			if err != nil {
				return 0, nil, fmt.Errorf("tccompose: %v", err)
			}
			lines := strings.Fields(string(out))
			if len(lines) == 0 {
				return 0, nil, fmt.Errorf("tccompose printed nothing")
			}
			ns, err := strconv.ParseInt(lines[len(lines)-1], 10, 64)
			return time.Duration(ns), nil, err
		}},
	}}
}
