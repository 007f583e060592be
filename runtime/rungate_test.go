package runtime

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// runGateIsClosed reports whether ch is closed, without blocking.
func runGateIsClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestRunGateSequences(t *testing.T) {
	type step struct {
		op        string // enter, exit, child, childExit, close
		ok        bool   // Enter's result
		running   int64
		completed uint64
		idle      bool // the channel from the last Close is closed
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"zero value admits", []step{
			{op: "enter", ok: true, running: 1},
			{op: "exit", running: 0, completed: 1},
			{op: "enter", ok: true, running: 1, completed: 1},
			{op: "exit", running: 0, completed: 2},
		}},
		{"close idle gate", []step{
			{op: "close", idle: true},
			{op: "enter", ok: false, idle: true},
			{op: "close", idle: true},
		}},
		{"close waits for runs", []step{
			{op: "enter", ok: true, running: 1},
			{op: "enter", ok: true, running: 2},
			{op: "close", running: 2},
			{op: "enter", ok: false, running: 2},
			{op: "exit", running: 1, completed: 1},
			{op: "exit", running: 0, completed: 2, idle: true},
		}},
		{"children keep close waiting", []step{
			{op: "enter", ok: true, running: 1},
			{op: "child", running: 2},
			{op: "close", running: 2},
			{op: "exit", running: 1, completed: 1},
			{op: "child", running: 2, completed: 1}, // a child starts a child
			{op: "childExit", running: 1, completed: 1},
			{op: "childExit", running: 0, completed: 1, idle: true},
		}},
		{"last run after children", []step{
			{op: "enter", ok: true, running: 1},
			{op: "child", running: 2},
			{op: "childExit", running: 1},
			{op: "close", running: 1},
			{op: "exit", running: 0, completed: 1, idle: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g RunGate
			var idle <-chan struct{}
			for i, s := range tt.steps {
				switch s.op {
				case "enter":
					if got := g.Enter(); got != s.ok {
						t.Fatalf("step %d: Enter() = %v; want %v", i, got, s.ok)
					}
				case "exit":
					g.Exit()
				case "child":
					g.EnterChild()
				case "childExit":
					g.ExitChild()
				case "close":
					idle = g.Close()
					if !g.Closed() {
						t.Fatalf("step %d: Closed() = false after Close", i)
					}
				}
				if got := g.Running(); got != s.running {
					t.Fatalf("step %d (%s): Running() = %d; want %d", i, s.op, got, s.running)
				}
				if got := g.Completed(); got != s.completed {
					t.Fatalf("step %d (%s): Completed() = %d; want %d", i, s.op, got, s.completed)
				}
				if idle != nil && runGateIsClosed(idle) != s.idle {
					t.Fatalf("step %d (%s): idle channel closed = %v; want %v", i, s.op, !s.idle, s.idle)
				}
			}
		})
	}
}

func TestRunGateCloseReturnsSameChannel(t *testing.T) {
	var g RunGate
	g.Enter()
	a, b := g.Close(), g.Close()
	if a != b {
		t.Fatal("Close returned two different channels")
	}
	g.Exit()
	if !runGateIsClosed(a) {
		t.Fatal("channel open after the last Exit")
	}
}

func TestRunGateMisusePanics(t *testing.T) {
	tests := []struct {
		name string
		prep func(*RunGate)
		call func(*RunGate)
	}{
		{"exit on fresh gate", func(*RunGate) {}, (*RunGate).Exit},
		{"exit twice", func(g *RunGate) { g.Enter(); g.Exit() }, (*RunGate).Exit},
		{"child exit on fresh gate", func(*RunGate) {}, (*RunGate).ExitChild},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g RunGate
			tt.prep(&g)
			completed := g.Completed()
			func() {
				defer func() {
					if recover() == nil {
						t.Fatal("no panic")
					}
				}()
				tt.call(&g)
			}()
			// The gate is left as it was and still works.
			if g.Running() != 0 || g.Closed() || g.Completed() != completed {
				t.Fatalf("gate changed by the misuse: running %d closed %v completed %d", g.Running(), g.Closed(), g.Completed())
			}
			if !g.Enter() {
				t.Fatal("Enter refused after a recovered misuse")
			}
			g.Exit()
		})
	}
}

// TestRunGateConcurrent runs many goroutines through the gate while it is
// closed: every admitted run is counted once, none is admitted after Close
// returned, and the idle channel closes only once all have exited.
func TestRunGateConcurrent(t *testing.T) {
	const workers, perWorker = 16, 2000
	for round := range 20 {
		var g RunGate
		var admitted, active atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w := range workers {
			wg.Go(func() {
				<-start
				for i := range perWorker {
					if !g.Enter() {
						return
					}
					active.Add(1)
					admitted.Add(1)
					if (w+i)%7 == 0 {
						g.EnterChild()
						active.Add(1)
						go func() {
							active.Add(-1)
							g.ExitChild()
						}()
					}
					active.Add(-1)
					g.Exit()
				}
			})
		}
		close(start)
		for range round * 50 {
			goruntime.Gosched()
		}
		idle := g.Close()
		if g.Enter() {
			t.Fatal("Enter admitted a run after Close")
		}
		<-idle
		// Everything counted in active happened before its Exit/ExitChild,
		// so the last one to leave precedes the channel's close.
		if n := active.Load(); n != 0 {
			t.Fatalf("round %d: idle with %d runs or children still active", round, n)
		}
		wg.Wait()
		if got, want := g.Completed(), uint64(admitted.Load()); got != want {
			t.Fatalf("round %d: Completed() = %d; want %d admitted runs", round, got, want)
		}
		if g.Running() != 0 {
			t.Fatalf("round %d: Running() = %d after all exited", round, g.Running())
		}
	}
}

// TestRunGateExitRacesClose hammers the last Exit and the last ExitChild
// against Close: whichever comes last must close the channel.
func TestRunGateExitRacesClose(t *testing.T) {
	for range 2000 {
		var g RunGate
		g.Enter()
		g.EnterChild()
		var wg sync.WaitGroup
		var idle <-chan struct{}
		wg.Go(g.Exit)
		wg.Go(g.ExitChild)
		wg.Go(func() { idle = g.Close() })
		wg.Wait()
		if !runGateIsClosed(idle) {
			t.Fatal("idle channel open after the last run, the last child and Close")
		}
	}
}

// TestRunGateRejectedEnterRacesExit races Enter calls that are turned away
// with the last Exit: a rejected Enter briefly counts itself, so it must
// signal idleness when it backs out.
func TestRunGateRejectedEnterRacesExit(t *testing.T) {
	for range 1000 {
		var g RunGate
		g.Enter()
		idle := g.Close()
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				if g.Enter() {
					t.Error("Enter admitted a run after Close")
				}
			})
		}
		wg.Go(g.Exit)
		wg.Wait()
		if !runGateIsClosed(idle) {
			t.Fatal("idle channel open after the last Exit")
		}
		if g.Completed() != 1 {
			t.Fatalf("Completed() = %d; want 1", g.Completed())
		}
	}
}

func TestRunGateRebase(t *testing.T) {
	var g RunGate
	const before = runGateRebaseAt - 100
	g.word.Store(before << runGateInflightBits) // as if `before` runs completed
	for range 300 {
		if !g.Enter() {
			t.Fatal("Enter refused")
		}
		g.Exit()
	}
	if got, want := g.Completed(), uint64(before+300); got != want {
		t.Fatalf("Completed() = %d; want %d", got, want)
	}
	if g.base.Load() != runGateRebaseBy {
		t.Fatalf("base = %d; want one rebase of %d", g.base.Load(), runGateRebaseBy)
	}
	if entered := g.word.Load() >> runGateInflightBits; entered >= runGateRebaseAt {
		t.Fatalf("entered field %d not rebased", entered)
	}
	if g.seq.Load()%2 != 0 {
		t.Fatal("seqlock left odd")
	}
}

// TestRunGateRebaseConcurrent crosses the rebase threshold under load while
// readers check that Completed never goes backwards, which a half-moved
// rebase would show.
func TestRunGateRebaseConcurrent(t *testing.T) {
	var g RunGate
	const before = runGateRebaseAt - 2000
	g.word.Store(before << runGateInflightBits)
	const workers, perWorker = 8, 1000
	var wg sync.WaitGroup
	done := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			last := g.Completed()
			for {
				select {
				case <-done:
					return
				default:
				}
				c := g.Completed()
				if c < last {
					t.Errorf("Completed went back from %d to %d", last, c)
					return
				}
				last = c
			}
		})
	}
	for range workers {
		wg.Go(func() {
			for range perWorker {
				if !g.Enter() {
					t.Error("Enter refused")
					return
				}
				g.Exit()
			}
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()
	if got, want := g.Completed(), uint64(before+workers*perWorker); got != want {
		t.Fatalf("Completed() = %d; want %d", got, want)
	}
	if g.base.Load() != runGateRebaseBy {
		t.Fatalf("base = %d; want exactly one rebase", g.base.Load())
	}
}

// TestRunGateInflightBound fills the in-flight field to its bound: the next
// Enter waits until a run exits, and is turned away if the gate closes
// first.
func TestRunGateInflightBound(t *testing.T) {
	full := runGateMaxInflight<<runGateInflightBits | runGateMaxInflight
	t.Run("admitted after an exit", func(t *testing.T) {
		var g RunGate
		g.word.Store(full)
		got := make(chan bool)
		go func() { got <- g.Enter() }()
		for range 100 {
			goruntime.Gosched()
		}
		g.Exit()
		if !<-got {
			t.Fatal("Enter refused after a slot freed")
		}
		if g.Running() != int64(runGateMaxInflight) {
			t.Fatalf("Running() = %d; want %d", g.Running(), runGateMaxInflight)
		}
		if g.Completed() != 1 {
			t.Fatalf("Completed() = %d; want 1", g.Completed())
		}
	})
	t.Run("refused after close", func(t *testing.T) {
		var g RunGate
		g.word.Store(full)
		got := make(chan bool)
		go func() { got <- g.Enter() }()
		for range 100 {
			goruntime.Gosched()
		}
		g.Close()
		if <-got {
			t.Fatal("Enter admitted past the in-flight bound")
		}
		if g.Running() != int64(runGateMaxInflight) {
			t.Fatalf("Running() = %d; want %d", g.Running(), runGateMaxInflight)
		}
	})
}

func TestRunGateDoesNotAllocate(t *testing.T) {
	var g RunGate
	if n := testing.AllocsPerRun(1000, func() {
		if g.Enter() {
			g.Exit()
		}
		g.EnterChild()
		g.ExitChild()
		_ = g.Completed()
	}); n != 0 {
		t.Fatalf("Enter/Exit/EnterChild/ExitChild/Completed: %v allocs per run; want 0", n)
	}
}

func BenchmarkRunGate(b *testing.B) {
	var g RunGate
	b.ReportAllocs()
	for b.Loop() {
		if g.Enter() {
			g.Exit()
		}
	}
}

func BenchmarkRunGateParallel(b *testing.B) {
	var g RunGate
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if g.Enter() {
				g.Exit()
			}
		}
	})
}

func ExampleRunGate() {
	var g RunGate
	run := func() bool {
		if !g.Enter() {
			return false // closed: the executor returns its ErrClosed
		}
		defer g.Exit()
		return true // the run's work goes here
	}
	fmt.Println(run(), run())
	<-g.Close()
	fmt.Println(run(), g.Completed())
	// Output:
	// true true
	// false 2
}

// TestRunGateInline proves that the hot path stays inlinable.
func TestRunGateInline(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the compiler")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	out, err := exec.Command(goTool, "build", "-o", os.DevNull, "-gcflags=-m", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -gcflags=-m: %v\n%s", err, out)
	}
	for _, fn := range []string{"Enter", "Exit", "EnterChild"} {
		if !regexp.MustCompile(`can inline \(\*RunGate\)\.` + fn + `\n`).Match(out) {
			t.Errorf("(*RunGate).%s is not inlinable any more", fn)
		}
	}
}
