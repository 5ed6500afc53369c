package wait

import (
	"archive/tar"
	"bytes"
	"io"
	"path"
)

func tarOf(name, content string) io.ReadCloser {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: path.Base(name), Mode: 0o644, Size: int64(len(content))})
	tw.Write([]byte(content))
	tw.Close()
	return io.NopCloser(&buf)
}
