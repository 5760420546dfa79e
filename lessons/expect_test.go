package lessons

import (
	"slices"
	"testing"

	"github.com/socklab/socklab/trace"
)

// The lessons that carry an expectation meet it themselves: what socklab
// trace --expect asks of a student's programs, the lesson does.
func TestLessonsMeetTheirExpectation(t *testing.T) {
	for _, l := range All() {
		if l.Expect == nil {
			continue
		}
		t.Run(l.Name, func(t *testing.T) {
			r := l.Expect.Check(runLesson(t, l.Name, Options{}))
			for _, c := range r.Calls {
				if c.Seen == nil {
					t.Errorf("%s %s (%s) not seen", c.Peer, c.Op, c.What)
				}
			}
			for _, c := range r.Checks {
				if !c.Checked || !c.OK {
					t.Errorf("rule %v: checked %v, held %v", c.Rule, c.Checked, c.OK)
				}
			}
		})
	}
}

// A run that skips calls or breaks a rule fails the check, and says which.
func TestExpectationCatchesWhatIsMissing(t *testing.T) {
	events := runLesson(t, "basic", Options{})
	var noClientWrite []trace.Event
	for _, e := range events {
		if e.Peer == "client" && (e.Op == trace.OpWrite || e.Op == trace.OpClose) {
			continue // a client that never sends, and never closes
		}
		noClientWrite = append(noClientWrite, e)
	}
	r := elevenStepsExpected.Check(noClientWrite)
	if r.OK() {
		t.Fatal("a run without the client's write and close passed")
	}
	missing := map[string]bool{}
	for _, c := range r.Calls {
		if c.Seen == nil {
			missing[c.Missing] = true
		}
	}
	for _, key := range []string{"expect.miss.client.write", "expect.miss.client.close"} {
		if !missing[key] {
			t.Errorf("%s not reported; missing: %v", key, missing)
		}
	}
	// The same calls, with the server's reply made to come before the
	// client's write: a rule is broken.
	swapped := append([]trace.Event(nil), events...)
	var w, r2 int
	for i, e := range swapped {
		if e.Peer == "client" && e.Op == trace.OpWrite && e.Phase == trace.Begin {
			w = i
		}
		if e.Peer == "server" && e.Op == trace.OpRead && e.Phase == trace.End && r2 == 0 {
			r2 = i
		}
	}
	swapped[w].Seq, swapped[r2].Seq = swapped[r2].Seq, swapped[w].Seq
	if elevenStepsExpected.Check(swapped).OK() {
		t.Error("a read before its write passed")
	}
}

// The story is written once: a lesson that has an expectation follows it
// under the conductor (its --step script is the expectation's calls), and
// every call of it is a step of the lesson plan (trace.Steps). The 11-step
// story shows every step of the plan.
func TestExpectationIsTheStory(t *testing.T) {
	for _, l := range All() {
		if l.Expect == nil {
			continue
		}
		t.Run(l.Name, func(t *testing.T) {
			if got, want := l.Script, l.Expect.Script(); !slices.Equal(got, want) {
				t.Errorf("Script:\ngot  %v\nwant %v (the expectation's calls)", got, want)
			}
			for _, c := range l.Expect.Calls {
				if len(c.Steps) == 0 {
					t.Errorf("%s %s is no step of the lesson plan", c.Peer, c.Op)
				}
			}
		})
	}
	shown := map[int]bool{}
	for _, c := range elevenStepsExpected.Calls {
		for _, s := range c.Steps {
			shown[s] = true
		}
	}
	for _, s := range trace.Steps {
		if !shown[s.Num] {
			t.Errorf("step %d (%s %s) is not in the 11-step story", s.Num, s.Role, s.Call)
		}
	}
}

// A correct non-blocking pair passes: the client's connect returns
// EINPROGRESS and its program learns the connection by SO_ERROR
// (Connected), the server's accept and reads first return EAGAIN. The
// would-block results are no steps; without the Connected event the
// client never connected.
func TestExpectationReadsNonBlocking(t *testing.T) {
	var events []trace.Event
	seq := uint64(0)
	add := func(peer string, op trace.Op, phase trace.Phase, f func(*trace.Event)) {
		seq++
		e := trace.Event{Seq: seq, Peer: peer, Role: trace.Role(peer), Op: op, Phase: phase, Nonblock: true}
		if f != nil {
			f(&e)
		}
		events = append(events, e)
	}
	both := func(peer string, op trace.Op, f func(*trace.Event)) {
		add(peer, op, trace.Begin, nil)
		add(peer, op, trace.End, f)
	}
	again := func(e *trace.Event) { e.Ret, e.Errno, e.Err = -1, "EAGAIN", errString("EAGAIN") }
	both("server", trace.OpCreate, nil)
	both("server", trace.OpBind, nil)
	both("server", trace.OpListen, nil)
	both("server", trace.OpAccept, again)
	both("client", trace.OpCreate, nil)
	both("client", trace.OpConnect, func(e *trace.Event) { e.Ret, e.Errno, e.Err = -1, "EINPROGRESS", errString("EINPROGRESS") })
	both("server", trace.OpAccept, func(e *trace.Event) { e.Ret, e.Remote = 5, "127.0.0.1:40000" })
	both("server", trace.OpRead, again)
	connected := func(e *trace.Event) { e.Option, e.Connected = "SO_ERROR", true }
	both("client", trace.OpGetsockopt, connected)
	both("client", trace.OpWrite, func(e *trace.Event) { e.N = 2 })
	both("server", trace.OpRead, func(e *trace.Event) { e.N, e.Ret = 2, 2 })
	both("server", trace.OpWrite, func(e *trace.Event) { e.N = 2 })
	both("client", trace.OpRead, func(e *trace.Event) { e.N, e.Ret = 2, 2 })
	both("client", trace.OpClose, func(e *trace.Event) { e.Remote, e.Step = "127.0.0.1:8080", 11 })
	both("server", trace.OpClose, func(e *trace.Event) { e.Remote, e.Step = "127.0.0.1:40000", 11 })
	r := elevenStepsExpected.Check(events)
	if !r.OK() {
		for _, c := range r.Calls {
			if c.Seen == nil && !c.Optional {
				t.Errorf("%s %s not seen", c.Peer, c.Op)
			}
		}
		for _, c := range r.Checks {
			if c.Checked && !c.OK {
				t.Errorf("rule %v broken", c.Rule)
			}
		}
	}
	for i := range events {
		events[i].Connected = false
	}
	if elevenStepsExpected.Check(events).OK() {
		t.Error("a client that never learned it was connected passed")
	}
}

type errString string

func (e errString) Error() string { return string(e) }
