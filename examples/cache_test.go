package examples

import (
	"context"
	"fmt"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// PriceCache is the code under test: a read-through cache in redis.
type PriceCache struct {
	rdb    *goredis.Client
	lookup func(sku string) (int, error)
	loads  int
}

// Price returns a price from redis, loading and caching it on a miss.
func (c *PriceCache) Price(ctx context.Context, sku string) (int, error) {
	v, err := c.rdb.Get(ctx, "price:"+sku).Int()
	if err == nil {
		return v, nil
	}
	if err != goredis.Nil {
		return 0, err
	}
	c.loads++
	p, err := c.lookup(sku)
	if err != nil {
		return 0, err
	}
	return p, c.rdb.Set(ctx, "price:"+sku, p, time.Minute).Err()
}

// TestPriceCache uses the package's shared redis (see TestMain), keeping
// its keys apart by test name.
func TestPriceCache(t *testing.T) {
	t.Parallel()
	opts, err := goredis.ParseURL(shared.URL())
	require.NoError(t, err)
	rdb := goredis.NewClient(opts)
	defer rdb.Close()
	ctx := t.Context()
	cache := &PriceCache{rdb: rdb, lookup: func(sku string) (int, error) { return len(sku) * 100, nil }}
	sku := fmt.Sprintf("%s-%d", t.Name(), time.Now().UnixNano())
	for range 3 {
		p, err := cache.Price(ctx, sku)
		require.NoError(t, err)
		assert.Equal(t, len(sku)*100, p)
	}
	assert.Equal(t, 1, cache.loads, "only the first call loads")
}
