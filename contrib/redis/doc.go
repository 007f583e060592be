// Package redis shares a flujo service's result cache, circuit-breaker
// transitions and usage budgets between its replicas on a Redis or Valkey
// server. It implements runtime.Shared; it lives in a module of its own so
// that the main flujo module never depends on a Redis client.
//
//	store, err := redis.FromConfigFile(ctx, "flujo.json") // its "distributed" section
//	if err != nil { ... }
//	defer store.Close()
//	core, err := flujo.NewExecutorCore(cfg, flujo.WithShared(store.Shared()))
//
// # The client
//
// The store talks to the server through github.com/redis/rueidis, chosen
// over github.com/redis/go-redis/v9 for three reasons:
//
//   - Auto-pipelining. Concurrent commands from many goroutines share one
//     connection and are written in batches, so a busy replica makes few
//     system calls and needs no pool sized for its peak concurrency.
//     go-redis takes a pooled connection per command (a Pipeline must be
//     built by hand); under load that means more connections, more system
//     calls and a pool that can run dry.
//   - RESP3, which carries pub/sub messages on the connection that also
//     serves commands, and server-assisted client-side caching. The store
//     does not use the latter for results (flujo's own in-process cache
//     is the first level), but it is there for keys that are read far more
//     often than written.
//   - Valkey. valkey-go is rueidis' fork under the Valkey project, with
//     the same API; rueidis itself speaks to Valkey servers too, and the
//     address may use the valkey:// and valkeys:// schemes.
//
// Each command goes out with a context bounded by command_timeout_ms, and
// rueidis answers at that deadline even when the server is still busy.
//
// # Degradation
//
// New does not fail when the server is down: the store starts degraded and
// keeps connecting in the background. A call that gets no answer (the
// connection failed or the command timeout passed) marks the store
// unhealthy; until a background PING succeeds again, every call
// fails at once with ErrDegraded, without a round trip, so a slow or dead
// server costs a request nothing. Callers (flujo's executors) then use
// their local state. Stats counts the calls, the degraded ones and the last
// error, its password redacted.
//
// # Keys
//
// Every key begins with the configured key prefix:
//
//	<prefix>c:...                      cached results (keys built by the executor)
//	<prefix>brk:open                   sorted set: open breakers, scored by the end of their open period
//	<prefix>brk                        pub/sub channel of breaker transitions
//	<prefix>bud:{<name>:<window>}      hash: what a budget's window has spent and holds
//	<prefix>bud:{<name>:<window>}:holds sorted set: the holds, scored by the end of their lease
//	<prefix>bud:{<name>:<window>}:done  sorted set: the committed reservations
//
// <window> is the Unix second at which the window starts (0 for a budget
// without a window). The braces keep a budget's keys in one hash slot.
package redis
