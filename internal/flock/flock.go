// Package flock takes exclusive file locks between the processes of one
// machine: the test binaries of a `go test ./...` run, so that one of them
// starts a shared container, or fills a cache image, while the others
// wait. A lock is released when it is unlocked or its process ends.
package flock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// Lock takes an exclusive lock on path (made if missing), waiting for ctx.
// why says in an error what the wait was for. Unlocking removes the file.
func Lock(ctx context.Context, path, why string) (unlock func(), err error) {
	for delay := 5 * time.Millisecond; ; delay = min(delay*2, 100*time.Millisecond) {
		unlock, err := lockOnce(path)
		if err == nil {
			return unlock, nil
		}
		if !errors.Is(err, errLocked) {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for lock %s (%s): %w", path, why, context.Cause(ctx))
		case <-time.After(delay):
		}
	}
}

// TryLock takes an exclusive lock on path (made if missing) unless another
// process holds it: then ok is false. Unlocking removes the file.
func TryLock(path string) (unlock func(), ok bool, err error) {
	unlock, err = lockOnce(path)
	switch {
	case err == nil:
		return unlock, true, nil
	case errors.Is(err, errLocked):
		return nil, false, nil
	default:
		return nil, false, fmt.Errorf("lock %s: %w", path, err)
	}
}

// lockOnce locks the file at path without waiting. A holder removes the
// file before it lets go, so that lock files do not pile up in the temp
// directory; a lock won on a file no longer at path is let go, and the
// file there now is locked instead.
func lockOnce(path string) (unlock func(), err error) {
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, err
		}
		if err := tryLock(f); err != nil {
			f.Close()
			return nil, err
		}
		if isAt(f, path) {
			return func() { release(f, path) }, nil
		}
		f.Close()
	}
}

// isAt tells whether f is the file at path.
func isAt(f *os.File, path string) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	pi, err := os.Stat(path)
	return err == nil && os.SameFile(fi, pi)
}
