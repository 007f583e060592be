package redis

import (
	"context"
	"time"

	"github.com/redis/rueidis"
)

// cache is the store's runtime.SharedCache: GET and SET with PX, each
// bounded by the command timeout, on the key the executor gives behind the
// store's key prefix.
type cache struct{ s *Store }

// Get returns the value stored under key (behind the key prefix); ok is
// false when there is none. err reports that the server did not answer in
// time.
func (ca cache) Get(ctx context.Context, key string) ([]byte, bool, error) {
	s := ca.s
	c, err := s.begin(ctx)
	if err != nil {
		return nil, false, err
	}
	defer c.cancel()
	val, err := c.cl.Do(c.ctx, c.cl.B().Get().Key(s.prefix+key).Build()).AsBytes()
	switch {
	case err == nil:
		s.cacheHits.Add(1)
		return val, true, nil
	case rueidis.IsRedisNil(err):
		s.cacheMisses.Add(1)
		return nil, false, nil
	}
	return nil, false, s.end(ctx, c, err)
}

// Set stores val under key (behind the key prefix) for ttl, rounded up to
// a millisecond; a ttl of 0 or less stores it without expiry.
func (ca cache) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	s := ca.s
	c, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer c.cancel()
	cl := c.cl
	var cmd rueidis.Completed
	key = s.prefix + key
	if ttl > 0 {
		ms := (ttl + time.Millisecond - 1) / time.Millisecond
		cmd = cl.B().Set().Key(key).Value(rueidis.BinaryString(val)).PxMilliseconds(int64(ms)).Build()
	} else {
		cmd = cl.B().Set().Key(key).Value(rueidis.BinaryString(val)).Build()
	}
	return s.end(ctx, c, cl.Do(c.ctx, cmd).Error())
}
