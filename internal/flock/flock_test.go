//go:build !windows

package flock

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A lock is exclusive (flock locks belong to an open file, so two opens in
// one process exclude each other as two processes do), and unlocking
// removes its file.
func TestLockExcludesAndRemovesItsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	unlock, err := Lock(t.Context(), path, "test")
	require.NoError(t, err)
	_, ok, err := TryLock(path)
	require.NoError(t, err)
	assert.False(t, ok, "a second lock while the first is held")

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err = Lock(ctx, path, "the test's first lock")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "the test's first lock", "the error says what the wait was for")

	unlock()
	assert.NoFileExists(t, path, "unlock removes the lock file")
	unlock2, ok, err := TryLock(path)
	require.NoError(t, err)
	require.True(t, ok, "free again after unlock")
	unlock2()
	assert.NoFileExists(t, path)
}

// A waiter blocked in Lock gets the lock once the holder lets go, and only
// then.
func TestLockWaits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	unlock, err := Lock(t.Context(), path, "test")
	require.NoError(t, err)
	got := make(chan func())
	go func() {
		u, err := Lock(t.Context(), path, "test")
		assert.NoError(t, err)
		got <- u
	}()
	select {
	case <-got:
		t.Fatal("the waiter got the lock while it was held")
	case <-time.After(100 * time.Millisecond):
	}
	unlock()
	select {
	case u := <-got:
		_, ok, err := TryLock(path)
		require.NoError(t, err)
		assert.False(t, ok, "the waiter holds the lock")
		u()
	case <-time.After(5 * time.Second):
		t.Fatal("the waiter never got the lock")
	}
}

// A lock won on a file that its holder removed before letting go is no
// lock: isAt tells it from the file at path now, and lockOnce locks that.
func TestStaleLockFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	old, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	require.NoError(t, err)
	defer old.Close()
	assert.True(t, isAt(old, path))
	require.NoError(t, os.Remove(path))
	assert.False(t, isAt(old, path), "removed")
	require.NoError(t, tryLock(old), "a lock on the removed file")

	unlock, ok, err := TryLock(path)
	require.NoError(t, err)
	require.True(t, ok, "the lock on a removed file does not hold the path")
	now, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	defer now.Close()
	assert.ErrorIs(t, tryLock(now), errLocked, "TryLock locked the file at path")
	unlock()
}
