package memcached_test

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/examples/memcached"
)

// TestMain fails the binary when a test leaves a resource of the shared
// session behind.
func TestMain(m *testing.M) { berth.Main(m) }

// send writes commands in memcached's text protocol and reads replies
// until one ends with END, STORED or an error.
func send(t *testing.T, addr, cmds string) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	_, err = conn.Write([]byte(cmds))
	require.NoError(t, err)
	var out strings.Builder
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadString('\n')
		require.NoError(t, err, out.String())
		out.WriteString(line)
		switch strings.TrimSpace(line) {
		case "END", "STORED", "ERROR":
			return out.String()
		}
	}
}

func TestSetGet(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	mc := memcached.New(h).MemoryMB(16).Start()
	assert.Equal(t, "STORED\r\n", send(t, mc.Addr, "set greeting 0 0 5\r\nhello\r\n"))
	assert.Equal(t, "VALUE greeting 0 5\r\nhello\r\nEND\r\n", send(t, mc.Addr, "get greeting\r\n"))
	assert.Contains(t, send(t, mc.Addr, "stats\r\n"), fmt.Sprintf("STAT limit_maxbytes %d\r\n", 16<<20), "MemoryMB reaches memcached -m")
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	_, err := memcached.New(h).MemoryMB(0).StartE(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "MemoryMB(0)")
}

// The module's customizer reaches the container: a second server on a
// network, found by alias from another container.
func TestNetwork(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	net := h.Network("cache")
	memcached.New(h).Network(net, "cache").Start()
	peer := h.Container(memcached.Image).Entrypoint("sleep", "3600").Network(net).Start()
	res, err := peer.Exec(t.Context(), []string{"bash", "-c",
		`exec 3<>/dev/tcp/cache/11211 && printf 'version\r\n' >&3 && head -c 8 <&3`})
	require.NoError(t, err)
	assert.Equal(t, "VERSION ", string(res.Stdout), string(res.Stderr))
}

// Outside a test, the scope is a session.
func Example() {
	ctx := context.Background()
	s, err := berth.NewSession(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close(ctx)
	mc, err := memcached.New(s).StartE(ctx)
	if err != nil {
		log.Fatal(err)
	}
	conn, err := net.Dial("tcp", mc.Addr)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "set k 0 0 2\r\nhi\r\nget k\r\n")
	r := bufio.NewReader(conn)
	r.ReadString('\n') // STORED
	r.ReadString('\n') // VALUE k 0 2
	v, _ := r.ReadString('\n')
	fmt.Println(strings.TrimSpace(v))
	// Output: hi
}

// docs/modules.md shows this module whole: the page and the code must not
// drift apart.
func TestDocShowsTheModule(t *testing.T) {
	doc, err := os.ReadFile("../../docs/modules.md")
	require.NoError(t, err)
	code, err := os.ReadFile("memcached.go")
	require.NoError(t, err)
	assert.True(t, strings.Contains(string(doc), "```go\n"+string(code)+"```\n"),
		"docs/modules.md must show memcached.go as it is; paste it again")
}
