package redis

import (
	"context"
	"time"

	"github.com/redis/rueidis"
)

// cache is the store's runtime.SharedCache: GET with PTTL, and SET with
// PX, each bounded by the command timeout, on the key the executor gives
// behind the store's key prefix.
type cache struct{ s *Store }

// Get returns the value stored under key (behind the key prefix) and the
// time it has left (PTTL, sent with the GET in one round trip; 0 when it
// does not expire); ok is false when there is none. err reports that the
// server did not answer in time.
func (ca cache) Get(ctx context.Context, key string) ([]byte, time.Duration, bool, error) {
	s := ca.s
	c, err := s.begin(ctx)
	if err != nil {
		return nil, 0, false, err
	}
	defer c.cancel()
	key = s.prefix + key
	res := c.cl.DoMulti(c.ctx, c.cl.B().Get().Key(key).Build(), c.cl.B().Pttl().Key(key).Build())
	val, err := res[0].AsBytes()
	var ms int64
	if err == nil {
		ms, err = res[1].AsInt64()
	}
	switch {
	case err == nil && ms == -1: // no expiry
		s.cacheHits.Add(1)
		return val, 0, true, nil
	case err == nil && ms > 0:
		s.cacheHits.Add(1)
		return val, time.Duration(ms) * time.Millisecond, true, nil
	case err == nil, rueidis.IsRedisNil(err): // none, or expired between the two
		s.cacheMisses.Add(1)
		return nil, 0, false, nil
	}
	return nil, 0, false, s.end(ctx, c, err)
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
