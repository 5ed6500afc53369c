package build

import (
	"archive/tar"
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth/internal/tests/testenv"
)

func TestMatcher(t *testing.T) {
	tests := []struct {
		patterns string
		path     string
		excluded bool
	}{
		{"*.txt", "a.txt", true},
		{"*.txt", "dir/a.txt", false},
		{"**/*.go", "a.go", true},
		{"**/*.go", "x/y/z.go", true},
		{"**/*.go", "x/y/z.golden", false},
		{"*.txt\n!keep.txt", "keep.txt", false},
		{"*.txt\n!keep.txt", "other.txt", true},
		{"!keep.txt\n*.txt", "keep.txt", true}, // the last match wins
		{"dir\n!dir/keep", "dir/keep", false},
		{"dir\n!dir/keep", "dir/other", true},
		{"dir", "dir/deep/file", true},
		{"/abs.txt", "abs.txt", true},
		{"# comment\n\n  spaced.txt  ", "spaced.txt", true},
		{"# comment", "# comment", false},
		{"docs/**", "docs/a/b.md", true},
		{"docs/**", "docsx/a", false},
		{"**", "anything/at/all", true},
		{"a?c", "abc", true},
		{"a?c", "a/c", false},
		{"[ab].txt", "b.txt", true},
		{"[!ab].txt", "c.txt", true},
		{"[!ab].txt", "a.txt", false},
		{"./x/../y", "y", true},
		{"x/*/z", "x/y/z", true},
		{"x/*/z", "x/y/w/z", false},
		{`\*.txt`, "*.txt", true},
		{`\*.txt`, "a.txt", false},
		{"build*", "build-cache", true},
		{"build*", "x/build-cache", false},
		{"a/*", "a/b", true},
		{"a/*", "a/b/c", true},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.patterns, "\n", "|")+" "+tt.path, func(t *testing.T) {
			pats, err := ParseDockerignore(strings.NewReader(tt.patterns))
			require.NoError(t, err)
			m, err := NewMatcher(pats)
			require.NoError(t, err)
			assert.Equal(t, tt.excluded, m.Excluded(tt.path))
		})
	}
}

func readTar(t *testing.T, c *Context) map[string]*tar.Header {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, c.WriteTar(context.Background(), &buf))
	out := map[string]*tar.Header{}
	for name, e := range testenv.ReadTar(t, &buf) {
		out[name] = e.Header
	}
	return out
}

func TestDirContextTar(t *testing.T) {
	dir := testenv.Tree(t, map[string]string{
		"Dockerfile":          "FROM scratch\nCOPY . /\n",
		".dockerignore":       "big\n*.log\nDockerfile\n!big/keep.txt\n",
		"app/main.go":         "package main",
		"app/debug.log":       "x",
		"run.log":             "x",
		"big/huge.bin":        strings.Repeat("x", 1<<20),
		"big/keep.txt":        "keep",
		"script.sh":           "#!/bin/sh",
		"nested/dir/file.txt": "n",
	})
	require.NoError(t, os.Chmod(filepath.Join(dir, "script.sh"), 0o755))
	require.NoError(t, os.Symlink("app/main.go", filepath.Join(dir, "link")))
	got := readTar(t, DirContext(dir))
	for _, want := range []string{"Dockerfile", ".dockerignore", "app/", "app/main.go", "big/keep.txt", "script.sh", "link", "nested/dir/file.txt"} {
		assert.Contains(t, got, want)
	}
	for _, gone := range []string{"run.log", "big/huge.bin", "big/"} {
		assert.NotContains(t, got, gone)
	}
	// *.log is a top-level pattern: app/debug.log stays, as with the CLI.
	assert.Contains(t, got, "app/debug.log")
	assert.Equal(t, int64(0o755), got["script.sh"].Mode)
	assert.Equal(t, byte(tar.TypeSymlink), got["link"].Typeflag)
	assert.Equal(t, "app/main.go", got["link"].Linkname)
}

// An exception that could match below an excluded directory makes the
// walk go in; one that cannot leaves it unread.
func TestExceptionsBelowExcludedDirs(t *testing.T) {
	for _, tt := range []struct {
		ignore string
		want   []string
	}{
		{"dir\n!*/keep", []string{".dockerignore", "Dockerfile", "dir/keep"}},
		{"dir\n!d*/keep", []string{".dockerignore", "Dockerfile", "dir/keep"}},
		{"dir\n!dir/keep", []string{".dockerignore", "Dockerfile", "dir/keep"}},
		{"dir\n!other/keep", []string{".dockerignore", "Dockerfile"}},
	} {
		dir := testenv.Tree(t, map[string]string{"Dockerfile": "FROM scratch", ".dockerignore": tt.ignore, "dir/keep": "x", "dir/drop": "x"})
		files, err := DirContext(dir).Files(context.Background())
		require.NoError(t, err)
		assert.Equal(t, tt.want, files, "%q", tt.ignore)
	}
}

func TestExcludedDirIsNotWalked(t *testing.T) {
	dir := testenv.Tree(t, map[string]string{"Dockerfile": "FROM scratch", ".dockerignore": "node_modules\n", "node_modules/a/b.js": "x", "src/x.go": "x"})
	c := DirContext(dir)
	var visited []string
	c.onVisit = func(rel string) { visited = append(visited, rel) }
	files, err := c.Files(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{".dockerignore", "Dockerfile", "src", "src/x.go"}, files)
	assert.Equal(t, []string{".dockerignore", "Dockerfile", "node_modules", "src", "src/x.go"}, visited, "nothing below node_modules is looked at")
}

// WriteTar reports what stops the walk: a directory gone, a ctx ended.
func TestWriteTarErrors(t *testing.T) {
	var buf bytes.Buffer
	err := DirContext(filepath.Join(t.TempDir(), "gone")).WriteTar(context.Background(), &buf)
	assert.ErrorIs(t, err, ErrContextNotFound)

	// A directory removed while the walk is in it.
	dir := testenv.Tree(t, map[string]string{"Dockerfile": "FROM scratch", "a/b": "x"})
	c := DirContext(dir)
	c.onVisit = func(rel string) {
		if rel == "a" {
			require.NoError(t, os.RemoveAll(filepath.Join(dir, "a")))
		}
	}
	buf.Reset()
	err = c.WriteTar(context.Background(), &buf)
	assert.ErrorIs(t, err, fs.ErrNotExist)

	dir = testenv.Tree(t, map[string]string{"Dockerfile": "FROM scratch", "a/b": "x"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	buf.Reset()
	err = DirContext(dir).WriteTar(ctx, &buf)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = DirContext(dir).Files(ctx)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestContextErrors(t *testing.T) {
	_, err := DirContext(filepath.Join(t.TempDir(), "missing")).Hash(context.Background())
	assert.ErrorIs(t, err, ErrContextNotFound)
	_, err = DirContext(t.TempDir()).Hash(context.Background())
	assert.ErrorIs(t, err, ErrDockerfileNotFound)
	assert.Contains(t, err.Error(), "Dockerfile")
	_, err = FilesContext(map[string][]byte{"a": nil}).WithDockerfile("build/Dockerfile").Hash(context.Background())
	assert.ErrorIs(t, err, ErrDockerfileNotFound)
}

func TestInlineDockerfileAndFiles(t *testing.T) {
	c := FilesContext(map[string][]byte{"bin/tool": []byte("#!/bin/sh"), ".dockerignore": []byte("secret.txt"), "secret.txt": []byte("x")}).
		WithMode("bin/tool", 0o755).
		WithDockerfileContent([]byte("FROM scratch\nCOPY bin /bin\n"))
	got := readTar(t, c)
	assert.Contains(t, got, inlineDockerfile)
	assert.NotContains(t, got, "secret.txt")
	assert.Equal(t, int64(0o755), got["bin/tool"].Mode)
	assert.Equal(t, inlineDockerfile, c.DockerfileName())
}

func TestHashStableAndSensitive(t *testing.T) {
	files := map[string]string{"Dockerfile": "FROM scratch", ".dockerignore": "ignored.txt", "a.txt": "a", "ignored.txt": "1"}
	dir := testenv.Tree(t, files)
	ctx := context.Background()
	h1, err := DirContext(dir).Hash(ctx)
	require.NoError(t, err)
	h2, _ := DirContext(testenv.Tree(t, files)).Hash(ctx)
	assert.Equal(t, h1, h2, "same content, same hash")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "ignored.txt"), []byte("2"), 0o644))
	h3, _ := DirContext(dir).Hash(ctx)
	assert.Equal(t, h1, h3, "an ignored file does not count")

	require.NoError(t, os.Chmod(filepath.Join(dir, "a.txt"), 0o600))
	h4, _ := DirContext(dir).Hash(ctx)
	assert.NotEqual(t, h1, h4, "mode counts")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.txt"), []byte("b"), 0o600))
	h5, _ := DirContext(dir).Hash(ctx)
	assert.NotEqual(t, h4, h5, "content counts")

	require.NoError(t, os.Rename(filepath.Join(dir, "a.txt"), filepath.Join(dir, "b.txt")))
	h6, _ := DirContext(dir).Hash(ctx)
	assert.NotEqual(t, h5, h6, "names count")

	var b1, b2 bytes.Buffer
	require.NoError(t, DirContext(dir).WriteTar(ctx, &b1))
	require.NoError(t, DirContext(dir).WriteTar(ctx, &b2))
	assert.Equal(t, b1.Bytes(), b2.Bytes(), "the tar is deterministic")
}

func BenchmarkHashContext(b *testing.B) {
	dir := b.TempDir()
	for i := range 2000 {
		p := filepath.Join(dir, "pkg", string(rune('a'+i%26)), "f"+strings.Repeat("x", i%7)+string(rune('0'+i%10))+".go")
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, bytes.Repeat([]byte("package x\n"), 50), 0o644)
	}
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch"), 0o644)
	c := DirContext(dir)
	for b.Loop() {
		if _, err := c.Hash(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzDockerignore(f *testing.F) {
	f.Add("*.txt\n!keep.txt\n**/x\n/abs", "dir/keep.txt")
	f.Add("[a-", "a")
	f.Add(`\`, `\`)
	f.Fuzz(func(t *testing.T, patterns, p string) {
		pats, err := ParseDockerignore(strings.NewReader(patterns))
		if err != nil {
			return
		}
		m, err := NewMatcher(pats)
		if err != nil {
			return
		}
		got := m.Excluded(p)
		// A leading slash in the patterns changes nothing.
		var slashed []string
		for _, q := range pats {
			if strings.HasPrefix(q, "!") {
				slashed = append(slashed, "!/"+q[1:])
			} else {
				slashed = append(slashed, "/"+q)
			}
		}
		m2, err := NewMatcher(slashed)
		if err != nil {
			t.Fatalf("slashed patterns %q do not compile: %v", slashed, err)
		}
		if m2.Excluded(p) != got {
			t.Fatalf("pattern %q and its slashed form disagree on %q", pats, p)
		}
	})
}
