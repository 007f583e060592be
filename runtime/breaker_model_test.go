package runtime

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// breakerModel is the reference: the breaker's semantics written as plainly
// as possible, for one goroutine. Every state period has its own number, and
// an outcome counts only if it comes from the current period.
type breakerModel struct {
	threshold, maxProbes int
	timeout              int64

	state     BreakerState
	period    int
	fails     int // consecutive failures while closed
	probes    int // probes admitted in this half-open period
	changedAt int64

	calls, failures, rejections, opens int
	log                                []string
}

// breakerModelPermit is the model's side of a permit.
type breakerModelPermit struct {
	period int
	probe  bool
}

func (m *breakerModel) move(to BreakerState, now int64) {
	if to != m.state {
		m.log = append(m.log, fmt.Sprintf("%v->%v", m.state, to))
	}
	m.state, m.period, m.fails, m.probes = to, m.period+1, 0, 0
	if to == BreakerOpen {
		m.opens++
	}
	if to != BreakerClosed {
		m.changedAt = now
	}
}

// allow returns the permit, or ok false and the wait.
func (m *breakerModel) allow(now int64) (p breakerModelPermit, ok bool, wait int64) {
	switch m.state {
	case BreakerClosed:
		m.calls++
		return breakerModelPermit{period: m.period}, true, 0
	case BreakerOpen:
		if now-m.changedAt < m.timeout {
			m.rejections++
			return p, false, m.timeout - (now - m.changedAt)
		}
		m.move(BreakerHalfOpen, now)
	}
	if m.probes == m.maxProbes {
		if now-m.changedAt < m.timeout {
			m.rejections++
			return p, false, m.timeout - (now - m.changedAt)
		}
		m.move(BreakerHalfOpen, now) // the probes out are presumed lost
	}
	m.probes++
	m.calls++
	return breakerModelPermit{period: m.period, probe: true}, true, 0
}

func (m *breakerModel) success(p breakerModelPermit) {
	switch {
	case p.period != m.period:
	case m.state == BreakerHalfOpen:
		m.move(BreakerClosed, 0)
	default:
		m.fails = 0
	}
}

func (m *breakerModel) failure(p breakerModelPermit, now int64) {
	m.failures++
	if p.period != m.period {
		return
	}
	if m.state == BreakerHalfOpen {
		m.move(BreakerOpen, now)
		return
	}
	if m.fails++; m.fails >= m.threshold {
		m.move(BreakerOpen, now)
	}
}

// neutral gives a current probe's slot back; nothing else changes.
func (m *breakerModel) neutral(p breakerModelPermit) {
	if p.period == m.period && p.probe && m.state == BreakerHalfOpen {
		m.probes--
	}
}

func (m *breakerModel) reset() { m.move(BreakerClosed, 0) }

func (m *breakerModel) counters() BreakerCounters {
	c := BreakerCounters{
		State: m.state, Calls: uint64(m.calls), Failures: uint64(m.failures),
		Rejections: uint64(m.rejections), Opens: uint64(m.opens),
	}
	if m.state == BreakerClosed {
		c.ConsecutiveFailures = m.fails
	}
	return c
}

// breakerRunModel interprets prog as a sequence of operations on a Breaker
// and the model side by side and fails at the first difference.
func breakerRunModel(t *testing.T, prog []byte) {
	t.Helper()
	if len(prog) < 2 {
		return
	}
	const timeout = 10 * time.Second
	threshold, probes := 1+int(prog[0]%4), 1+int(prog[1]%3)
	prog = prog[2:]
	clock := NewFakeClock(time.Hour)
	model := &breakerModel{threshold: threshold, maxProbes: probes, timeout: int64(timeout), period: 1}
	var got []string
	b, err := NewBreaker("m", BreakerSettings{
		FailureThreshold: threshold, RecoveryTimeout: timeout, HalfOpenMaxProbes: probes, Clock: clock,
		OnStateChange: func(_ string, from, to BreakerState) { got = append(got, fmt.Sprintf("%v->%v", from, to)) },
	})
	if err != nil {
		t.Fatal(err)
	}
	type pair struct {
		real  BreakerPermit
		model breakerModelPermit
	}
	var (
		out   []pair
		trace []string
	)
	advances := []time.Duration{0, time.Nanosecond, timeout / 3, timeout - 1, timeout, timeout + 7, 2 * timeout}
	next := func() byte {
		if len(prog) == 0 {
			return 0
		}
		c := prog[0]
		prog = prog[1:]
		return c
	}
	for len(prog) > 0 {
		op := next()
		switch op % 8 {
		case 0, 1, 2:
			trace = append(trace, "allow")
			p := b.Allow()
			mp, ok, wait := model.allow(clock.Nanotime())
			if p.Admitted() != ok || p.Probe() != mp.probe || p.RetryAfter() != time.Duration(wait) {
				t.Fatalf("%s: Allow = admitted %v probe %v wait %v; model admitted %v probe %v wait %v",
					strings.Join(trace, " "), p.Admitted(), p.Probe(), p.RetryAfter(), ok, mp.probe, time.Duration(wait))
			}
			if ok {
				out = append(out, pair{p, mp})
			}
		case 3, 4:
			if len(out) == 0 {
				continue
			}
			i := int(next()) % len(out)
			p := out[i]
			out = append(out[:i], out[i+1:]...)
			switch {
			case op%8 == 3:
				trace = append(trace, fmt.Sprintf("ok(%d)", i))
				b.RecordSuccess(p.real)
				model.success(p.model)
			case op&8 != 0:
				trace = append(trace, fmt.Sprintf("neutral(%d)", i))
				b.RecordNeutral(p.real)
				model.neutral(p.model)
			default:
				trace = append(trace, fmt.Sprintf("fail(%d)", i))
				b.RecordFailure(p.real)
				model.failure(p.model, clock.Nanotime())
			}
		case 5, 6:
			d := advances[int(next())%len(advances)]
			trace = append(trace, fmt.Sprintf("+%v", d))
			clock.Advance(d)
		case 7:
			if next()%4 != 0 {
				continue
			}
			trace = append(trace, "reset")
			b.Reset()
			model.reset()
		}
		if c, want := b.Counters(), model.counters(); c != want {
			t.Fatalf("%s: Counters() = %+v, model %+v", strings.Join(trace, " "), c, want)
		}
		if strings.Join(got, " ") != strings.Join(model.log, " ") {
			t.Fatalf("%s: state changes %q, model %q", strings.Join(trace, " "), got, model.log)
		}
	}
}

// TestBreakerMatchesModel runs many random programs against the model.
func TestBreakerMatchesModel(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 400 {
		prog := make([]byte, 2+rnd.IntN(400))
		for i := range prog {
			prog[i] = byte(rnd.Uint32())
		}
		breakerRunModel(t, prog)
	}
}

// FuzzBreakerModel lets the fuzzer search for programs that tell the breaker
// and the model apart.
func FuzzBreakerModel(f *testing.F) {
	f.Add([]byte{2, 1, 0, 4, 0, 0, 4, 0, 0, 4, 0, 5, 4, 0, 0, 3, 0})
	f.Add([]byte{0, 2, 0, 4, 0, 5, 4, 0, 0, 5, 4, 0, 5, 6, 0, 7, 0, 0})
	f.Add([]byte{0, 1, 0, 4, 0, 5, 4, 0, 0, 12, 0, 0, 3, 0})
	f.Fuzz(breakerRunModel)
}
