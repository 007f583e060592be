// Package redistest runs a real redis-server for tests: on 127.0.0.1, on a
// free port, without persistence, stopped at the end of the test. A test
// can stop it, start it again on the same port and make it sleep. It is
// not internal so that benchmarks and services built on contrib/redis can
// test against a real server too.
//
//	srv := redistest.Start(t) // skips t when redis-server is missing, fails it under CI
//	cfg := runtime.DefaultDistributedConfig()
//	cfg.Address = srv.Addr
package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Binary is the server the harness runs: $REDIS_SERVER, or redis-server
// from PATH.
func Binary() string {
	if b := os.Getenv("REDIS_SERVER"); b != "" {
		return b
	}
	return "redis-server"
}

// Server is a redis-server process that a test owns.
type Server struct {
	// Addr is "127.0.0.1:<port>"; it stays the same across Restart.
	Addr string
	Port int

	t    testing.TB
	path string
	dir  string

	mu  sync.Mutex
	cmd *exec.Cmd
	log *os.File
}

// Start starts a redis-server for t and stops it when t ends. When the
// binary is missing it skips t, unless $CI is set: CI must have it
// (.ci/run installs it).
func Start(t testing.TB) *Server {
	t.Helper()
	path, err := exec.LookPath(Binary())
	if err != nil {
		msg := fmt.Sprintf("redistest: %s not found (%v); install it (Debian: apt-get install redis-server) or set REDIS_SERVER", Binary(), err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg + "; CI must have it")
		}
		t.Skip(msg)
	}
	s := &Server{t: t, path: path, dir: t.TempDir()}
	for attempt := 0; ; attempt++ {
		s.Port = freePort(t)
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
		err := s.start()
		if err == nil {
			break
		}
		if attempt == 4 {
			t.Fatalf("redistest: %v", err)
		}
	}
	t.Cleanup(s.Stop)
	return s
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: no free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start runs the server on s.Port and waits until it answers PING.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("redistest: the server is running already")
	}
	log, err := os.OpenFile(s.dir+"/redis.log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	args := []string{
		"--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir,
		"--enable-debug-command", "yes",
	}
	cmd := exec.Command(s.path, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("start %s: %w", s.path, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := s.do(200*time.Millisecond, "PING"); err == nil {
			break
		}
		select {
		case err := <-exited:
			log.Close()
			out, _ := os.ReadFile(s.dir + "/redis.log")
			return fmt.Errorf("%s exited at start (%v): %s", s.path, err, lastLines(string(out), 5))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			log.Close()
			return fmt.Errorf("%s on port %d did not answer PING within 10 s", s.path, s.Port)
		}
	}
	s.cmd = cmd
	s.log = log
	go func() {
		<-exited
		log.Close()
	}()
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// Stop kills the server (SIGKILL: no goodbye to its clients) and waits
// until its port is free. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	for i := 0; i < 200; i++ {
		if _, err := s.do(50*time.Millisecond, "PING"); err != nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Restart starts the server again on the same port, empty.
func (s *Server) Restart() {
	s.t.Helper()
	var err error
	for i := 0; i < 50; i++ { // the port may take a moment to be free
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("redistest: restart on port %d: %v", s.Port, err)
}

// Sleep makes the server sleep for d (DEBUG SLEEP): it answers nothing
// until then. Sleep returns at once; the server wakes by itself.
func (s *Server) Sleep(d time.Duration) {
	s.t.Helper()
	conn, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err != nil {
		s.t.Fatalf("redistest: DEBUG SLEEP: %v", err)
	}
	if _, err := conn.Write(encode("DEBUG", "SLEEP", strconv.FormatFloat(d.Seconds(), 'f', 3, 64))); err != nil {
		conn.Close()
		s.t.Fatalf("redistest: DEBUG SLEEP: %v", err)
	}
	go func() { // read the answer when it comes, then hang up
		_ = conn.SetReadDeadline(time.Now().Add(d + 10*time.Second))
		_, _ = bufio.NewReader(conn).ReadString('\n')
		conn.Close()
	}()
}

// Do sends one command on a connection of its own and returns the first
// line of the answer ("+PONG", ":1", "$5", "-ERR ...").
func (s *Server) Do(args ...string) (string, error) {
	return s.do(2*time.Second, args...)
}

func (s *Server) do(timeout time.Duration, args ...string) (string, error) {
	conn, err := net.DialTimeout("tcp", s.Addr, timeout)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if _, err := conn.Write(encode(args...)); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if strings.HasPrefix(line, "-") {
		return line, errors.New(line)
	}
	return line, nil
}

// encode writes a command as a RESP array of bulk strings.
func encode(args ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return []byte(b.String())
}
