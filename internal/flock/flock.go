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
// why says in an error what the wait was for.
func Lock(ctx context.Context, path, why string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for delay := 5 * time.Millisecond; ; delay = min(delay*2, 100*time.Millisecond) {
		err := tryLock(f)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, errLocked) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("wait for lock %s (%s): %w", path, why, context.Cause(ctx))
		case <-time.After(delay):
		}
	}
}

// TryLock takes an exclusive lock on path (made if missing) unless another
// process holds it: then ok is false.
func TryLock(path string) (unlock func(), ok bool, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, err
	}
	if err := tryLock(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, true, nil
}
