package main

// The distributed demo: two replicas of the service share their result
// cache and breaker state through a local redis-server (contrib/redis).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/contrib/redis"
	"github.com/flujo/flujo/examples/realtime"
	"github.com/flujo/flujo/runtime"
)

// runReplica is one replica: the realtime service with the shared services
// the file's "distributed" section names (contrib/redis), configured by
// the same file.
func runReplica(ctx context.Context, config string, args []string, stdout, stderr io.Writer) int {
	store, err := redis.FromConfigFile(ctx, config)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer store.Close()
	return realtime.MainWith(ctx, args, stdout, stderr, realtime.Options{
		CoreOptions: []flujo.CoreOption{flujo.WithConfigFile(config), flujo.WithShared(store.Shared())},
		Routes:      metricsRoutes,
	})
}

// config is the replicas' flujo.json: the real-time-api profile with the
// answer's generate step cached, and the distributed section.
func config(redisAddr string) ([]byte, error) {
	p, err := runtime.LookupProfile(realtime.Profile)
	if err != nil {
		return nil, err
	}
	opt := p.Config()
	opt.EnableCacheOptimization = true
	dist := runtime.DefaultDistributedConfig()
	dist.Address = redisAddr
	dist.KeyPrefix = "flujo-demo:"
	return json.MarshalIndent(map[string]any{
		"optimization": opt,
		"steps":        map[string]any{"answer.generate": map[string]any{"cache": true}},
		"distributed":  dist,
	}, "", "  ")
}

// demoDistributed starts redis-server and two replicas of the service (this
// command run again with -shared), then shows a shared cache hit and a
// shared breaker opening.
func demoDistributed(ctx context.Context, w io.Writer) error {
	bin, err := redisBinary()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "flujo-demo-distributed-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	redisPort, err := freePort()
	if err != nil {
		return err
	}
	redisAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(redisPort))
	srv := exec.CommandContext(ctx, bin, "--port", strconv.Itoa(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	if err := srv.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", bin, err)
	}
	defer stop(srv)
	if err := waitTCP(redisAddr, 5*time.Second); err != nil {
		return fmt.Errorf("redis-server on %s: %w", redisAddr, err)
	}
	fmt.Fprintf(w, "== redis-server %s on %s; two replicas of examples/realtime share it\n", versionOf(bin), redisAddr)

	doc, err := config(redisAddr)
	if err != nil {
		return err
	}
	cfgPath := filepath.Join(dir, "flujo.json")
	if err := os.WriteFile(cfgPath, doc, 0o600); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	a, err := startReplica(ctx, self, cfgPath, "A", "failing", dir)
	if err != nil {
		return err
	}
	defer stop(a.cmd)
	b, err := startReplica(ctx, self, cfgPath, "B", "healthy", dir)
	if err != nil {
		return err
	}
	defer stop(b.cmd)
	fmt.Fprintf(w, "replica A on %s: its upstream model fails every call\n", a.addr)
	fmt.Fprintf(w, "replica B on %s: its upstream model is healthy\n", b.addr)

	fmt.Fprintln(w, "\n== a shared result cache")
	q1 := `{"question":"How long does a cached result live?"}`
	if err := show(w, b, q1, "B computes the answer and caches it (L1 and Redis)"); err != nil {
		return err
	}
	if err := show(w, a, q1, "A answers from the shared cache: its own upstream is never called"); err != nil {
		return err
	}
	if err := showShared(w, a); err != nil {
		return err
	}

	fmt.Fprintln(w, "\n== a shared circuit breaker")
	q2 := `{"question":"When does a circuit breaker open?"}`
	for i := 1; i <= 4; i++ {
		code, _, err := a.post(q2)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "A request %d: %d %s\n", i, code, http.StatusText(code))
		if code == http.StatusServiceUnavailable {
			break
		}
	}
	// B asks new questions, so that each one runs the step (a cached
	// answer is served without consulting the breaker).
	deadline := time.Now().Add(time.Second)
	for i := 1; ; i++ {
		code, body, err := b.post(fmt.Sprintf(`{"question":"When does a circuit breaker open? (%d)"}`, i))
		if err != nil {
			return err
		}
		if code == http.StatusServiceUnavailable || time.Now().After(deadline) {
			fmt.Fprintf(w, "B, upstream healthy: %d %s %s", code, http.StatusText(code), body)
			if code != http.StatusServiceUnavailable {
				return errors.New("replica B did not see A's breaker open within 1 s")
			}
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return showShared(w, b)
}

type replica struct {
	name, addr string
	cmd        *exec.Cmd
}

func startReplica(ctx context.Context, self, cfgPath, name, mode, dir string) (*replica, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	logf, err := os.Create(filepath.Join(dir, "replica-"+name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, "-shared", cfgPath, "-addr", addr, "-upstream", mode, "-latency", "5ms")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	r := &replica{name: name, addr: addr, cmd: cmd}
	if err := waitHTTP("http://"+addr+"/healthz", 10*time.Second); err != nil {
		stop(cmd)
		log, _ := os.ReadFile(logf.Name())
		return nil, fmt.Errorf("replica %s: %w\n%s", name, err, log)
	}
	return r, nil
}

func (r *replica) post(body string) (int, string, error) {
	resp, err := http.Post("http://"+r.addr+"/v1/answer", "application/json", strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func show(w io.Writer, r *replica, body, note string) error {
	code, resp, err := r.post(body)
	if err != nil {
		return err
	}
	var reply struct {
		Answer   string `json:"answer"`
		Attempts int    `json:"attempts"`
	}
	_ = json.Unmarshal([]byte(resp), &reply)
	answer := reply.Answer
	if len(answer) > 60 {
		answer = answer[:60] + "..."
	}
	fmt.Fprintf(w, "%s: %d %s %q\n  (%s)\n", r.name, code, http.StatusText(code), answer, note)
	if code != http.StatusOK {
		return fmt.Errorf("replica %s answered %d: %s", r.name, code, resp)
	}
	return nil
}

// showShared prints the replica's figures of its shared services.
func showShared(w io.Writer, r *replica) error {
	resp, err := http.Get("http://" + r.addr + "/v1/stats")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var st runtime.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return fmt.Errorf("replica %s /v1/stats: %w", r.name, err)
	}
	d := st.Distributed
	gen := st.Steps["generate"]
	fmt.Fprintf(w, "%s stats: shared cache hits %d, misses %d; breaker transitions sent %d, applied %d; degraded calls %d; generate's breaker %s\n",
		r.name, d.CacheHits, d.CacheMisses, d.BreakerPublished, d.BreakerApplied, d.Degraded, gen.CircuitBreaker.State)
	return nil
}

func redisBinary() (string, error) {
	if b := os.Getenv("REDIS_SERVER"); b != "" {
		return b, nil
	}
	b, err := exec.LookPath("redis-server")
	if err != nil {
		return "", errors.New("redis-server is not installed: apt-get install redis-server (Debian/Ubuntu), or set $REDIS_SERVER to a redis-server or valkey-server binary")
	}
	return b, nil
}

func versionOf(bin string) string {
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return ""
	}
	for _, f := range strings.Fields(string(out)) {
		if v, ok := strings.CutPrefix(f, "v="); ok {
			return v
		}
	}
	return ""
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitTCP(addr string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitHTTP(url string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s: %d", url, resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop asks a process to end and waits for it.
func stop(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}
