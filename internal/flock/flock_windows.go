package flock

import (
	"errors"
	"os"
)

// errLocked is tryLock's answer when another process holds the lock.
var errLocked = errors.New("locked by another process")

// tryLock always succeeds on Windows: without a file lock, test binaries
// of one run that race to start a shared container meet at its name (as
// Reuse does), and each run may start its own reaper.
func tryLock(*os.File) error { return nil }

// release closes the file, then removes it: Windows does not remove an
// open file.
func release(f *os.File, path string) {
	f.Close()
	os.Remove(path)
}
