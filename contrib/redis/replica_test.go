package redis_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flujo/flujo/contrib/redis"
	"github.com/flujo/flujo/contrib/redis/redistest"
	"github.com/flujo/flujo/runtime"
)

// The test binary started with replicaEnv set is one replica of a service:
// it connects its own Store and does what $FLUJO_REPLICA_DO says, printing
// its results on stdout.
const replicaEnv = "FLUJO_REPLICA_DO"

func replicaMain() int {
	cfg := runtime.DefaultDistributedConfig()
	cfg.Address = os.Getenv("FLUJO_REPLICA_ADDR")
	cfg.KeyPrefix = os.Getenv("FLUJO_REPLICA_PREFIX")
	cfg.CommandTimeoutMs = int(commandTimeout / time.Millisecond)
	ctx := context.Background()
	s, err := redis.New(ctx, cfg, redis.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer s.Close()
	sh := s.Shared()
	if do := os.Getenv(replicaEnv); strings.HasPrefix(do, "svc-") {
		return serviceMain(s, do)
	}
	switch do := os.Getenv(replicaEnv); do {
	case "cache-set":
		if err := sh.Cache.Set(ctx, "shared-key", []byte("from another process"), time.Minute); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println("set")
	case "cache-get":
		v, _, ok, err := sh.Cache.Get(ctx, "shared-key")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Printf("hit=%v value=%q\n", ok, v)
	case "breaker-open":
		sh.Breakers.Publish(runtime.BreakerTransition{Key: "svc/upstream", State: runtime.BreakerOpen, Until: time.Now().Add(time.Minute)})
		fmt.Println("published", time.Now().UnixNano())
	case "breaker-wait":
		applied := make(chan runtime.BreakerTransition, 1)
		stop := sh.Breakers.Subscribe(func(t runtime.BreakerTransition) {
			select {
			case applied <- t:
			default:
			}
		})
		defer stop()
		fmt.Println("ready")
		select {
		case t := <-applied:
			fmt.Println("applied", time.Now().UnixNano(), t.Key, t.State)
		case <-time.After(20 * time.Second):
			fmt.Fprintln(os.Stderr, "no transition within 20 s")
			return 1
		}
	case "budget":
		<-waitStdin() // start together
		budget := runtime.SharedBudget{Name: "tenant", Window: time.Hour, TokenLimit: 100}
		var admitted atomic.Int64
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					r, ok, err := sh.Budgets.Reserve(ctx, budget, runtime.Usage{PromptTokens: 1})
					if err != nil {
						// Late on a loaded machine: a hold the server made
						// all the same is released in the background.
						time.Sleep(20 * time.Millisecond)
						continue
					}
					if !ok {
						return
					}
					admitted.Add(1)
					_ = r.Commit(ctx, runtime.Usage{PromptTokens: 1})
				}
			}()
		}
		wg.Wait()
		fmt.Println("admitted", admitted.Load())
	default:
		fmt.Fprintln(os.Stderr, "unknown", replicaEnv, do)
		return 2
	}
	return 0
}

// waitStdin is closed when stdin ends.
func waitStdin() <-chan struct{} {
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(done)
	}()
	return done
}

// replica is a running replica process.
type replica struct {
	do    string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
}

func startReplica(t *testing.T, srv *redistest.Server, do string) *replica {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), replicaEnv+"="+do, "FLUJO_REPLICA_ADDR="+srv.Addr,
		"FLUJO_REPLICA_PREFIX=replicas:"+t.Name()+":")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &replica{do: do, cmd: cmd, stdin: stdin, lines: make(chan string, 10)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			r.lines <- sc.Text()
		}
		close(r.lines)
	}()
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return r
}

// line returns the replica's next line of output.
func (r *replica) line(t *testing.T) string {
	t.Helper()
	select {
	case l, ok := <-r.lines:
		if !ok {
			t.Fatalf("replica %s ended: %v", r.do, r.cmd.Wait())
		}
		return l
	case <-time.After(30 * time.Second):
		t.Fatalf("replica %s silent for 30 s", r.do)
	}
	return ""
}

// TestReplicaProcesses runs replicas as OS processes against one server:
// the cache is shared, a breaker opened on A opens on B and C within one
// second, and a budget of 100 units admits exactly 100 across three
// replicas of 20 goroutines each.
func TestReplicaProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	srv := redistest.Start(t)

	if l := startReplica(t, srv, "cache-set").line(t); l != "set" {
		t.Fatalf("A: %s", l)
	}
	if l := startReplica(t, srv, "cache-get").line(t); l != `hit=true value="from another process"` {
		t.Fatalf("B: %s, want a hit", l)
	}

	b, c := startReplica(t, srv, "breaker-wait"), startReplica(t, srv, "breaker-wait")
	for _, r := range []*replica{b, c} {
		if l := r.line(t); l != "ready" {
			t.Fatalf("breaker replica: %s", l)
		}
	}
	var published int64
	if _, err := fmt.Sscanf(startReplica(t, srv, "breaker-open").line(t), "published %d", &published); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*replica{"B": b, "C": c} {
		f := strings.Fields(r.line(t))
		if len(f) != 4 || f[0] != "applied" || f[2] != "svc/upstream" || f[3] != "open" {
			t.Fatalf("%s: %v, want svc/upstream applied open", name, f)
		}
		at, _ := strconv.ParseInt(f[1], 10, 64)
		d := time.Duration(at - published)
		t.Logf("%s applied the open %v after A published it", name, d)
		if d > time.Second {
			t.Errorf("%s applied the open %v after A published it; want within 1 s", name, d)
		}
	}

	var reps []*replica
	for range 3 {
		reps = append(reps, startReplica(t, srv, "budget"))
	}
	time.Sleep(200 * time.Millisecond) // connected
	for _, r := range reps {
		r.stdin.Close()
	}
	total := 0
	for i, r := range reps {
		var n int
		if _, err := fmt.Sscanf(r.line(t), "admitted %d", &n); err != nil {
			t.Fatal(err)
		}
		t.Logf("replica %d admitted %d", i, n)
		total += n
	}
	if total != 100 {
		t.Fatalf("the replicas admitted %d runs; want exactly 100", total)
	}
}
