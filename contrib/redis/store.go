package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/flujo/flujo/runtime"
)

// ErrDegraded is what every call returns, at once and without a round
// trip, while the store is unhealthy: its last call failed or timed out,
// or it has not connected yet. The store keeps trying in the background;
// Stats().LastError says what went wrong.
var ErrDegraded = errors.New("redis: the shared store is degraded (unreachable or slow); carry on with local state")

// ErrClosed is what every call returns after Close.
var ErrClosed = errors.New("redis: the shared store is closed")

// Defaults of the options.
const (
	// DefaultHoldLease is how long a budget hold lasts when its run never
	// commits it (the process died, say).
	DefaultHoldLease = 10 * time.Minute
	// DefaultProbeInterval is how often an unhealthy store tries the
	// server again.
	DefaultProbeInterval = 100 * time.Millisecond
	// DefaultBreakerQueue is how many breakers may have a transition
	// waiting to be sent.
	DefaultBreakerQueue = 4096
	// DefaultCommitQueue is how many budget commits that did not reach
	// the server may wait to be sent again.
	DefaultCommitQueue = 4096
)

// Option configures New and FromConfigFile.
type Option func(*options)

type options struct {
	log       *slog.Logger
	lease     time.Duration
	probe     time.Duration
	queue     int
	clientOpt func(*rueidis.ClientOption)
}

// WithLogger sets where the store logs that it lost or regained the
// server (one line per change, address redacted). The default is
// slog.Default(); a nil logger discards.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l == nil {
			l = slog.New(slog.NewTextHandler(io.Discard, nil))
		}
		o.log = l
	}
}

// WithHoldLease sets how long a budget hold lasts when it is never
// committed (DefaultHoldLease). A hold is released when its lease ends;
// a commit that comes later still charges what the run spent. Make it
// longer than your longest run.
func WithHoldLease(d time.Duration) Option {
	return func(o *options) { o.lease = d }
}

// WithProbeInterval sets how often an unhealthy store tries the server
// again (DefaultProbeInterval): the longest a recovered server waits
// before it is used again.
func WithProbeInterval(d time.Duration) Option {
	return func(o *options) { o.probe = d }
}

// WithClientOption lets fn adjust the rueidis client options after the
// store has set them from the configuration: a TLS configuration with
// your own certificate authority, a client name, sentinel settings. fn
// must not log the password.
func WithClientOption(fn func(*rueidis.ClientOption)) Option {
	return func(o *options) { o.clientOpt = fn }
}

// Store is a connection to a Redis or Valkey server shared by the replicas
// of a service. Shared returns the runtime.Shared that executors take.
// A Store is safe for concurrent use; Close it when done.
type Store struct {
	cfg     runtime.DistributedConfig
	name    string   // "redis host:port", password redacted
	secrets []string // forms of the password scrubbed from errors
	opt     rueidis.ClientOption
	log     *slog.Logger
	lease   time.Duration
	probe   time.Duration
	timeout time.Duration
	prefix  string
	id      string // this store's instance id, in its breaker messages

	cl      atomic.Pointer[clientBox]
	healthy atomic.Bool
	wake    chan struct{}

	calls, degraded atomic.Uint64
	lastErr         atomic.Pointer[string]
	cacheHits       atomic.Uint64
	cacheMisses     atomic.Uint64
	brkPublished    atomic.Uint64
	brkApplied      atomic.Uint64
	budReserved     atomic.Uint64
	budRefused      atomic.Uint64

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once

	brk     *breakers
	commits *commitQueue
}

type clientBox struct{ c rueidis.Client }

// New connects to the server cfg names (cfg.ResolveAddress: the address,
// or the environment variable address_env names), a "host:port" or a
// redis://, rediss://, valkey:// or valkeys:// URL. It fails only when the
// configuration is wrong: a server that is down or slow at start leaves
// the store degraded (Stats().Healthy is false) while it keeps connecting
// in the background. No error holds the password.
//
// When cfg shares nothing (cache, breaker and budgets all false) New needs
// no address and contacts no server: the store's Shared holds no part, so
// that an executor given it with flujo.WithShared keeps all its state to
// itself.
func New(ctx context.Context, cfg runtime.DistributedConfig, opts ...Option) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	o := options{log: slog.Default(), lease: DefaultHoldLease, probe: DefaultProbeInterval, queue: DefaultBreakerQueue}
	for _, opt := range opts {
		opt(&o)
	}
	if o.lease <= 0 || o.probe <= 0 {
		return nil, fmt.Errorf("redis: hold lease (%v) and probe interval (%v) must be positive", o.lease, o.probe)
	}
	if !cfg.Enabled() {
		s := &Store{cfg: cfg, name: "redis (nothing shared)", log: o.log, timeout: cfg.CommandTimeout(), prefix: cfg.KeyPrefix}
		s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
		return s, nil
	}
	addr, err := cfg.ResolveAddress()
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	s := &Store{
		cfg:     cfg,
		name:    "redis " + runtime.RedactAddress(addr),
		log:     o.log,
		lease:   o.lease,
		probe:   o.probe,
		timeout: cfg.CommandTimeout(),
		prefix:  cfg.KeyPrefix,
		id:      newID(),
		wake:    make(chan struct{}, 1),
	}
	if s.opt, err = s.clientOption(addr); err != nil {
		return nil, err
	}
	if o.clientOpt != nil {
		o.clientOpt(&s.opt)
	}
	if s.opt.Password != "" {
		s.secrets = append(s.secrets, s.opt.Password, url.QueryEscape(s.opt.Password), url.PathEscape(s.opt.Password))
	}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	if cfg.Breaker {
		s.brk = newBreakers(s, o.queue)
	}
	if cfg.Budgets {
		s.commits = newCommitQueue(s, DefaultCommitQueue)
	}
	if ctx.Err() == nil {
		s.connect()
	}
	if !s.healthy.Load() {
		s.log.Warn("flujo: shared store unreachable; serving from local state and retrying",
			"store", s.name, "error", s.lastError(), "retry_every", s.probe)
	}
	s.wg.Add(1)
	go s.healthLoop()
	if s.brk != nil {
		s.wg.Add(1)
		go s.sendLoop(s.brk.signal, s.brk.send)
	}
	if s.commits != nil {
		s.wg.Add(1)
		go s.sendLoop(s.commits.signal, s.commits.send)
	}
	return s, nil
}

// FromConfigFile reads the "distributed" section of the flujo.json file at
// path (runtime.ReadConfigFile) and calls New with it. A file without the
// section is an error.
func FromConfigFile(ctx context.Context, path string, opts ...Option) (*Store, error) {
	cf, err := runtime.ReadConfigFile(path)
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	if cf.Distributed == nil {
		return nil, fmt.Errorf("redis: %s has no \"distributed\" section; add one naming the server, such as {\"distributed\": {\"address_env\": \"REDIS_URL\"}}", path)
	}
	return New(ctx, *cf.Distributed, opts...)
}

// clientOption builds the rueidis options for addr from the configuration.
func (s *Store) clientOption(addr string) (rueidis.ClientOption, error) {
	var opt rueidis.ClientOption
	if strings.Contains(addr, "://") {
		var err error
		if opt, err = rueidis.ParseURL(addr); err != nil {
			// Errors of url.Parse quote the URL: never pass them on.
			return opt, fmt.Errorf("redis: address %s: cannot be read as a URL; percent-encode special characters of the password", runtime.RedactAddress(addr))
		}
	} else {
		opt.InitAddress = []string{addr}
	}
	opt.Dialer.Timeout = s.cfg.DialTimeout()
	// Results are cached in process by flujo itself: no server-assisted
	// client-side cache (and no tracking state on the server).
	opt.DisableCache = true
	return opt, nil
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Shared returns the parts the configuration turns on (cache, breaker,
// budgets), all served by s, and s's Stats.
func (s *Store) Shared() runtime.Shared {
	sh := runtime.Shared{Stats: s.Stats, CommandTimeout: s.timeout}
	if s.cfg.Cache {
		sh.Cache = cache{s}
	}
	if s.brk != nil {
		sh.Breakers = s.brk
	}
	if s.cfg.Budgets {
		sh.Budgets = budgets{s}
	}
	return sh
}

// Stats returns the store's figures: calls, degraded calls, the last
// error (its password redacted) and the figures of each part.
// BudgetLocal is the executor's to count. A closed store is not healthy.
func (s *Store) Stats() runtime.StatsShared {
	return runtime.StatsShared{
		Enabled:          s.cfg.Enabled(),
		Store:            s.name,
		Healthy:          s.healthy.Load() && s.ctx.Err() == nil,
		Calls:            s.calls.Load(),
		Degraded:         s.degraded.Load(),
		LastError:        s.lastError(),
		CacheHits:        s.cacheHits.Load(),
		CacheMisses:      s.cacheMisses.Load(),
		BreakerPublished: s.brkPublished.Load(),
		BreakerApplied:   s.brkApplied.Load(),
		BudgetReserved:   s.budReserved.Load(),
		BudgetRefused:    s.budRefused.Load(),
	}
}

// String names the store, its password redacted.
func (s *Store) String() string { return s.name }

// Close sends the breaker transitions and budget commits still queued
// (when the server answers), stops the background work (connecting, health
// probes, breaker messages, commits sent again) and closes the
// connections. Calls after Close return ErrClosed, and Stats reports the
// store unhealthy, its last error ErrClosed.
func (s *Store) Close() {
	s.closeOnce.Do(func() {
		if s.brk != nil {
			s.brk.flush()
		}
		if s.commits != nil {
			s.commits.flush()
		}
		s.cancel()
		if s.brk != nil {
			s.brk.stopAll()
		}
		s.wg.Wait()
		s.healthy.Store(false)
		msg := ErrClosed.Error()
		s.lastErr.Store(&msg)
		if b := s.cl.Load(); b != nil {
			b.c.Close()
		}
	})
}

func (s *Store) lastError() string {
	if p := s.lastErr.Load(); p != nil {
		return *p
	}
	return ""
}

// redact scrubs every form of the password from msg.
func (s *Store) redact(msg string) string {
	for _, sec := range s.secrets {
		if sec != "" {
			msg = strings.ReplaceAll(msg, sec, runtime.RedactedPassword)
		}
	}
	return msg
}

// connect creates the client if there is none yet and probes the server
// with a PING, bounded by the dial timeout (connecting may take longer
// than a command); it reports whether the server answered.
func (s *Store) connect() bool {
	b := s.cl.Load()
	if b == nil {
		c, err := rueidis.NewClient(s.opt)
		if err != nil {
			s.record(err)
			return false
		}
		b = &clientBox{c}
		s.cl.Store(b)
	}
	ctx, cancel := context.WithTimeout(s.ctx, max(s.cfg.DialTimeout(), s.timeout))
	defer cancel()
	if err := b.c.Do(ctx, b.c.B().Ping().Build()).Error(); err != nil {
		s.record(err)
		return false
	}
	s.healthy.Store(true)
	return true
}

// healthLoop waits while the store is healthy and probes the server every
// probe interval while it is not.
func (s *Store) healthLoop() {
	defer s.wg.Done()
	t := time.NewTimer(s.probe)
	defer t.Stop()
	for {
		if s.healthy.Load() {
			select {
			case <-s.ctx.Done():
				return
			case <-s.wake:
			}
			continue
		}
		t.Reset(s.probe)
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		if s.connect() {
			s.log.Info("flujo: shared store reachable again; sharing resumes", "store", s.name)
		}
	}
}

// callerGaveUp reports whether err, which ended c, is the doing of parent,
// the caller's context, rather than the server's (see end).
func (s *Store) callerGaveUp(parent context.Context, c call, err error) bool {
	if errors.Is(parent.Err(), context.Canceled) {
		return true
	}
	d, ok := parent.Deadline()
	return ok && d.Sub(c.start) < s.timeout/2 && (errors.Is(err, context.DeadlineExceeded) || parent.Err() != nil)
}

// record keeps err as the last error, redacted.
func (s *Store) record(err error) {
	msg := s.redact(err.Error())
	if errors.Is(err, context.DeadlineExceeded) {
		msg = fmt.Sprintf("no answer within %v (command_timeout_ms): the server is slow or unreachable", s.timeout)
	}
	s.lastErr.Store(&msg)
}

// call is one call to the server: its client, its context (the caller's,
// bounded by the command timeout) and when it started.
type call struct {
	cl     rueidis.Client
	ctx    context.Context
	cancel context.CancelFunc
	start  time.Time
}

// begin starts a call: it counts it and returns the client and a context
// bounded by the command timeout, or ErrDegraded (counted as degraded)
// while the store is unhealthy.
func (s *Store) begin(ctx context.Context) (call, error) {
	s.calls.Add(1)
	if s.ctx.Err() != nil {
		s.degraded.Add(1)
		return call{}, ErrClosed
	}
	b := s.cl.Load()
	if b == nil || !s.healthy.Load() {
		s.degraded.Add(1)
		return call{}, ErrDegraded
	}
	c := call{cl: b.c, start: time.Now()}
	c.ctx, c.cancel = context.WithTimeout(ctx, s.timeout)
	return c, nil
}

// end finishes c, a call that went to the server on behalf of parent. A
// failure is counted as degraded and kept as the last error; unless the
// server answered it (an error reply) or the caller gave up first, it marks
// the store unhealthy so that the next calls fail fast until a probe
// succeeds. It returns err, redacted.
//
// The caller gave up first when it cancelled the call, or when its own
// deadline, which gave the call less than half the command timeout, ended
// it. Executors bound their calls by the command timeout too, with a
// deadline set a moment before the store's: a call that it ends went
// unanswered for the command timeout, and that is the server's doing.
func (s *Store) end(parent context.Context, c call, err error) error {
	if err == nil {
		return nil
	}
	if s.callerGaveUp(parent, c, err) {
		return err
	}
	s.degraded.Add(1)
	s.record(err)
	var reply *rueidis.RedisError
	if errors.As(err, &reply) {
		return fmt.Errorf("redis: %s", s.redact(err.Error()))
	}
	if s.healthy.CompareAndSwap(true, false) {
		s.log.Warn("flujo: shared store failed; serving from local state until it answers again",
			"store", s.name, "error", s.lastError())
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return fmt.Errorf("redis: %s: %s", s.name, s.redact(err.Error()))
}

// sendLoop runs send, the sending of a queue of background writes, when
// signal says something was queued, while the store is healthy; until send
// reports the queue empty, it tries again every probe interval. Background
// work waits for the server to answer again and is not counted as degraded
// calls.
func (s *Store) sendLoop(signal <-chan struct{}, send func() bool) {
	defer s.wg.Done()
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-signal:
		case <-retry.C:
		}
		if !s.healthy.Load() || !send() {
			retry.Reset(s.probe)
		}
	}
}
