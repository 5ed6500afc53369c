package wait_test

import (
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // TestValidate names the registered "pgx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth/wait"
)

func dsn(host string, port int) string { return "postgres://u@" + host }

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		s    wait.Strategy
		want string // "" when valid
	}{
		{"http", wait.ForHTTP("/healthz").Port("8080/tcp"), ""},
		{"http bare port, empty path", wait.ForHTTP("").Port("8080"), ""},
		{"http without port", wait.ForHTTP("/healthz"), `ForHTTP("/healthz"): no container port to probe: add .Port("8080/tcp")`},
		{"http bad port", wait.ForHTTP("/").Port("80/udp"), `ForHTTP("/").Port("80/udp"): only tcp ports can be waited for`},
		{"http port out of range", wait.ForHTTP("/").Port("70000"), `ForHTTP("/").Port("70000"): want a port number from 1 to 65535 with an optional /tcp, like "5432/tcp"`},
		{"http relative path", wait.ForHTTP("healthz").Port("8080"), `ForHTTP("healthz"): the path must start with "/": ForHTTP("/healthz")`},
		{"http nil matcher", wait.ForHTTP("/").Port("8080").StatusMatcher(nil), `ForHTTP("/"): StatusMatcher(nil): give a function, or use Status(code)`},
		{"port", wait.ForListeningPort("5432"), ""},
		{"port empty", wait.ForListeningPort(""), `ForListeningPort(""): want a port number`},
		{"port udp", wait.ForListeningPort("53/udp"), `ForListeningPort("53/udp"): only tcp ports can be waited for`},
		{"port 1", wait.ForListeningPort("1"), ""},
		{"port 65535", wait.ForListeningPort("65535/tcp"), ""},
		{"port 0", wait.ForListeningPort("0"), `ForListeningPort("0"): want a port number from 1 to 65535`},
		{"port 65536", wait.ForListeningPort("65536"), `ForListeningPort("65536"): want a port number from 1 to 65535`},
		{"sql", wait.ForSQL("5432/tcp", "pgx", dsn), ""},
		{"sql without driver", wait.ForSQL("5432/tcp", "", dsn), `ForSQL("5432/tcp", "", dsn): no database/sql driver name: give the registered name, e.g. "pgx"`},
		{"sql unregistered driver", wait.ForSQL("5432/tcp", "postgres", dsn), `ForSQL("5432/tcp", "postgres", dsn): database/sql driver "postgres" is not registered: import its package, e.g. _ "github.com/jackc/pgx/v5/stdlib" for "pgx"`},
		{"sql without dsn", wait.ForSQL("5432/tcp", "pgx", nil), `ForSQL("5432/tcp", "pgx", dsn): no DSN function`},
		{"sql bad port", wait.ForSQL("pg", "pgx", dsn), `ForSQL("pg", "pgx", dsn): port: want a port number`},
		{"sql empty query", wait.ForSQL("5432", "pgx", dsn).Query(""), `ForSQL("5432", "pgx", dsn): Query(""): give a query`},
		{"exec", wait.ForExec("true"), ""},
		{"exec without command", wait.ForExec(), `ForExec(): no command: give the program and its arguments, e.g. ForExec("pg_isready")`},
		{"exec empty program", wait.ForExec("", "x"), `ForExec("", "x"): no command`},
		{"file", wait.ForFile("/tmp/ready"), ""},
		{"file without path", wait.ForFile(""), `ForFile(""): no path`},
		{"no Validate method", wait.ForLog("ready"), ""},
		{"nil", nil, ""},
		{"all", wait.All(wait.ForLog("x"), wait.ForListeningPort("80")), ""},
		{"all member", wait.All(wait.ForLog("x"), wait.ForHTTP("/x")), `All(...): strategy 2 of 2: ForHTTP("/x"): no container port to probe`},
		{"any nested member", wait.Any(wait.All(wait.ForFile("")), wait.ForExit()), `Any(...): strategy 1 of 2: All(...): strategy 1 of 1: ForFile(""): no path`},
		{"any nil member", wait.Any(wait.ForExit(), nil), `Any(...): strategy 2 of 2 is nil`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := wait.Validate(tt.s)
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), tt.want), "got %q, want prefix %q", err, tt.want)
			assert.ErrorIs(t, err, wait.ErrInvalidStrategy)
			var se *wait.StrategyError
			assert.ErrorAs(t, err, &se)
		})
	}
}

func TestHTTPStringWithoutPort(t *testing.T) {
	assert.Equal(t, "http GET /healthz status 200", wait.ForHTTP("/healthz").String())
	assert.Equal(t, "http GET :8080/tcp/healthz status 200", wait.ForHTTP("/healthz").Port("8080/tcp").String())
}
