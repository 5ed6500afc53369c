//go:build !windows

package flock

import (
	"errors"
	"os"
	"syscall"
)

// errLocked is tryLock's answer when another process holds the lock.
var errLocked = errors.New("locked by another process")

// tryLock takes an exclusive lock on f without waiting; it is released
// when f is closed or the process ends.
func tryLock(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return errLocked
	}
	return err
}

// release removes the lock file, then lets go of the lock: a process that
// takes the lock after that finds the file gone from path and locks a new
// one, so no two hold the lock at once.
func release(f *os.File, path string) {
	os.Remove(path)
	f.Close()
}
