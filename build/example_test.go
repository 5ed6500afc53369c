package build_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/berth-go/berth/build"
)

// The context's .dockerignore decides what is sent to the builder.
func ExampleNewMatcher() {
	patterns, _ := build.ParseDockerignore(strings.NewReader("# build output\nnode_modules\n*.log\n!keep.log\n"))
	m, _ := build.NewMatcher(patterns)
	for _, p := range []string{"node_modules/x/y.js", "debug.log", "keep.log", "src/main.go"} {
		fmt.Println(p, m.Excluded(p))
	}
	// Output:
	// node_modules/x/y.js true
	// debug.log true
	// keep.log false
	// src/main.go false
}

// An in-memory context with an inline Dockerfile, and its cache key.
func ExampleFilesContext() {
	bc := build.FilesContext(map[string][]byte{"app.sh": []byte("echo hi")}).
		WithDockerfileContent([]byte("FROM busybox:1.36\nCOPY app.sh /app.sh\n"))
	files, _ := bc.Files(context.Background())
	fmt.Println(files)
	hash, _ := bc.Hash(context.Background())
	fmt.Println(len(hash))
	// Output:
	// [app.sh .berth.Dockerfile]
	// 64
}
