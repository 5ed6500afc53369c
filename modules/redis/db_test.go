package redis_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/modules/redis"
)

// TestDB: parallel tests on one shared server each get a database of their
// own, empty, that others do not see, emptied and freed after the test;
// when all are held a test waits for one, and says who holds them.
func TestDB(t *testing.T) {
	h := berth.New(t)
	rd := redis.New(h.Shared()).Password("pw").Databases(4).Start()
	var mu sync.Mutex
	seen := map[int]string{}
	t.Run("group", func(t *testing.T) {
		for i := range 6 { // more tests than the 3 databases
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				db := rd.DB(t)
				assert.NotContains(t, fmt.Sprintf("%v %+v %#v %s", db, db, db, db), "pw")
				assert.Contains(t, db.String(), t.Name())
				c := client(t, db.URL())
				ctx := t.Context()
				n, err := c.DBSize(ctx).Result()
				require.NoError(t, err)
				assert.Zero(t, n, "empty when handed out")
				require.NoError(t, c.Set(ctx, "owner", t.Name(), 0).Err())
				time.Sleep(200 * time.Millisecond)
				got, err := c.Get(ctx, "owner").Result()
				require.NoError(t, err)
				assert.Equal(t, t.Name(), got, "no other test wrote here")
				mu.Lock()
				seen[db.Index()] = t.Name()
				mu.Unlock()
			})
		}
	})
	assert.Len(t, seen, 3, "indexes 1-3 handed out and handed back")
	require.Eventually(t, func() bool {
		db, err := rd.DBE(t.Context(), "after")
		if err != nil {
			return false
		}
		defer db.Release()
		n, err := client(t, db.URL()).DBSize(t.Context()).Result()
		return err == nil && n == 0
	}, 10*time.Second, 100*time.Millisecond)

	// All held: a caller waits until its deadline and learns who holds them.
	var held []*redis.DB
	for range 3 {
		db, err := rd.DBE(t.Context(), "holder")
		require.NoError(t, err)
		held = append(held, db)
	}
	short, stop := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer stop()
	_, err := rd.DBE(short, "late")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "holder (pid")
	for _, db := range held {
		db.Release()
	}
	_, err = redis.New(h).Databases(1).StartE(t.Context())
	require.ErrorIs(t, err, redis.ErrInvalidInput)
}
