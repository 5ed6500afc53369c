package wait

import (
	"archive/tar"
	"context"
	"errors"
	"io"
)

// FileStrategy waits for a file inside the container.
type FileStrategy struct {
	path    string
	matcher func([]byte) bool
}

// ForFile waits until path exists inside the container, read through the
// engine's archive API (no shell needed).
func ForFile(path string) *FileStrategy { return &FileStrategy{path: path} }

// Matcher also requires the file's content to satisfy match.
func (s *FileStrategy) Matcher(match func(content []byte) bool) *FileStrategy {
	s.matcher = match
	return s
}

// String describes the wait.
func (s *FileStrategy) String() string { return "file " + s.path }

// Validate reports a missing path.
func (s *FileStrategy) Validate() error {
	if s.path == "" {
		return invalid(`ForFile("")`, `no path: give the file's absolute path inside the container, e.g. ForFile("/tmp/ready")`)
	}
	return nil
}

// Ready blocks until the file exists (and matches).
func (s *FileStrategy) Ready(ctx context.Context, t Target) error {
	if err := s.Validate(); err != nil {
		return err
	}
	return run(ctx, t, s.String(), func(ctx context.Context, seen *observation) error {
		return poll(ctx, func() error {
			rc, err := t.CopyFrom(ctx, s.path)
			if err != nil {
				seen.set("%v", err)
				return err
			}
			defer rc.Close()
			if s.matcher == nil {
				drain(rc)
				return nil
			}
			tr := tar.NewReader(rc)
			if _, err := tr.Next(); err != nil {
				return err
			}
			content, err := io.ReadAll(io.LimitReader(tr, 16<<20))
			if err != nil {
				return err
			}
			if !s.matcher(content) {
				seen.set("content %.200q not matched", content)
				return errors.New("content not matched")
			}
			return nil
		})
	})
}
