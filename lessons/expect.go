package lessons

import (
	"slices"

	"github.com/socklab/socklab/trace"
)

// An Expectation is a lesson's story as `socklab trace --expect` checks
// another program against it: the calls each peer makes, in order, and the
// rules across the peers that causality guarantees. It is the one place
// the story is written: the lesson's --step script is its calls
// ([Expectation.Script]), the lesson-plan step of each call comes from
// trace.StepOf (see numbered), and the lesson's own tests check the lesson
// against the very same rules ([Expectation.Rules]).
type Expectation struct {
	Calls  []ExpectedCall
	Checks []Check
}

// An ExpectedCall is one call of the story.
type ExpectedCall struct {
	Peer string
	Op   trace.Op
	// Steps are the lesson-plan steps the call shows (6 and 8 for an
	// accept that waited and returned), as trace.StepOf numbers them for
	// the peer's role: filled in by numbered, never written by hand.
	Steps []int
	// What narrows the call down: "data" for a read that got bytes,
	// "eof" for one that returned 0, "connection" or "listener" for a
	// close of that socket.
	What string
	// Optional calls are not failures when missing, but worth a
	// sentence: a listening socket left to the process's exit.
	Optional bool
	// Anywhere: the call may come at any point of the peer's calls (a
	// program may close its listener before or after the connection).
	Anywhere bool
	// Missing is the catalogue key of the sentence that says what its
	// absence means.
	Missing string
}

// A Check is a causal rule, with the catalogue key of what its breaking
// means.
type Check struct {
	Rule   trace.Rule
	Broken string
	// Optional: a rule about an optional call.
	Optional bool
}

var (
	serverListened = trace.EndOf("server", trace.OpListen)
)

// elevenStepsExpected is the basic exchange, as any program may make it:
// Python's sendall and recv are write and read. It is the canonical story,
// 1 to 11, and the teaching order of the basic lesson (and of ipv6, the
// same calls): their --step script is its calls (elevenSteps, basic.go).
var elevenStepsExpected = numbered(&Expectation{
	Calls: []ExpectedCall{
		{Peer: "server", Op: trace.OpCreate, Missing: "expect.miss.server.create"},
		{Peer: "server", Op: trace.OpBind, Missing: "expect.miss.server.bind"},
		{Peer: "server", Op: trace.OpListen, Missing: "expect.miss.server.listen"},
		{Peer: "client", Op: trace.OpCreate, Missing: "expect.miss.client.create"},
		{Peer: "client", Op: trace.OpConnect, Missing: "expect.miss.client.connect"},
		{Peer: "server", Op: trace.OpAccept, Missing: "expect.miss.server.accept"},
		{Peer: "client", Op: trace.OpWrite, Missing: "expect.miss.client.write"},
		{Peer: "server", Op: trace.OpRead, What: "data", Missing: "expect.miss.server.read"},
		{Peer: "server", Op: trace.OpWrite, Missing: "expect.miss.server.write"},
		{Peer: "client", Op: trace.OpRead, What: "data", Missing: "expect.miss.client.read"},
		{Peer: "server", Op: trace.OpRead, What: "eof", Optional: true, Missing: "expect.miss.server.read_eof"},
		{Peer: "client", Op: trace.OpClose, What: "connection", Missing: "expect.miss.client.close"},
		{Peer: "server", Op: trace.OpClose, What: "connection", Missing: "expect.miss.server.close"},
		{Peer: "server", Op: trace.OpClose, What: "listener", Optional: true, Anywhere: true, Missing: "expect.miss.server.close_listener"},
	},
	Checks: []Check{
		// The client starts once the server listens (the lesson waits for
		// it; socklab trace starts --client programs then).
		{Rule: trace.Rule{Before: serverListened, After: trace.BeginOf("client", trace.OpConnect)}, Broken: "expect.broken.listen_connect"},
		// accept cannot return before someone connected.
		{Rule: trace.Rule{Before: trace.BeginOf("client", trace.OpConnect), After: trace.EndOf("server", trace.OpAccept)}, Broken: "expect.broken.connect_accept"},
		// Bytes cannot be read before they are written.
		{Rule: trace.Rule{Before: trace.BeginOf("client", trace.OpWrite), After: trace.EndOf("server", trace.OpRead)}, Broken: "expect.broken.write_read"},
		{Rule: trace.Rule{Before: trace.BeginOf("server", trace.OpWrite), After: trace.EndOf("client", trace.OpRead)}, Broken: "expect.broken.reply_read"},
		// The server reads end of file only after the client closed.
		{Rule: trace.Rule{Before: trace.BeginOf("client", trace.OpClose), After: trace.EndOf("server", trace.OpRead).AtEOF()}, Broken: "expect.broken.close_eof", Optional: true},
	},
})

// numbered fills in the lesson-plan steps of each call of x, as
// trace.StepOf numbers the call of its peer's role: the step of its Begin
// and, when it differs (5 then 7 for connect, 6 then 8 for accept), the
// step of its End. It returns x.
func numbered(x *Expectation) *Expectation {
	for i := range x.Calls {
		c := &x.Calls[i]
		role := trace.Role(c.Peer)
		c.Steps = nil
		for _, phase := range []trace.Phase{trace.Begin, trace.End} {
			if s := trace.StepOf(role, c.Op, phase, false); s != 0 && !slices.Contains(c.Steps, s) {
				c.Steps = append(c.Steps, s)
			}
		}
	}
	return x
}

// Script is the teaching order the story gives a trace.Conductor (--step,
// --delay, the web view's Next): the Begin of each call, in the story's
// order.
func (x *Expectation) Script() []trace.Point {
	script := make([]trace.Point, len(x.Calls))
	for i, c := range x.Calls {
		script[i] = trace.BeginOf(c.Peer, c.Op)
	}
	return script
}

// Rules are the story's causal rules, as trace.CheckOrder takes them.
func (x *Expectation) Rules() []trace.Rule {
	rules := make([]trace.Rule, len(x.Checks))
	for i, c := range x.Checks {
		rules[i] = c.Rule
	}
	return rules
}

// A Report is what Expectation.Check found.
type Report struct {
	Calls  []CallResult
	Checks []CheckResult
}

// A CallResult is one expected call and the call that matched it.
type CallResult struct {
	ExpectedCall
	// Seen is the End of the call that matched, or nil.
	Seen *trace.Event
}

// A CheckResult is one rule and what became of it.
type CheckResult struct {
	Check
	// Checked says both of its calls happened; OK that they came in its
	// order.
	Checked, OK bool
}

// OK reports whether every call that is not optional was made, and every
// rule checked held.
func (r *Report) OK() bool {
	for _, c := range r.Calls {
		if c.Seen == nil && !c.Optional {
			return false
		}
	}
	for _, c := range r.Checks {
		if c.Checked && !c.OK {
			return false
		}
	}
	return true
}

// Check compares a run's events with the story: each peer's calls must
// come in the story's order (other calls between them are extras, not
// errors), and the rules must hold. A non-blocking program's calls are
// read as the story's: a call that would have waited (EAGAIN, or a
// connect's EINPROGRESS) is no step, and its connect is done where the
// program learns it (Event.Connected, step 7).
func (x *Expectation) Check(events []trace.Event) *Report {
	events = storyOf(connectionStory(events))
	r := &Report{}
	next := map[string]int{} // per peer: the index of the event after the last match
	for _, want := range x.Calls {
		res := CallResult{ExpectedCall: want}
		from := next[want.Peer]
		if want.Anywhere {
			from = 0
		}
		for i := from; i < len(events); i++ {
			e := &events[i]
			if e.Peer == want.Peer && e.Phase == trace.End && e.Op == want.Op && want.matches(e) {
				res.Seen = e
				if !want.Anywhere {
					next[want.Peer] = i + 1
				}
				break
			}
		}
		r.Calls = append(r.Calls, res)
	}
	// A rule is about calls that happened: a refused connect caused no
	// accept, and an accept a signal interrupted accepted nothing.
	done := succeeded(events)
	for _, c := range x.Checks {
		before, ok1 := trace.Find(done, c.Rule.Before)
		after, ok2 := trace.Find(done, c.Rule.After)
		r.Checks = append(r.Checks, CheckResult{Check: c, Checked: ok1 && ok2, OK: ok1 && ok2 && before.Seq < after.Seq})
	}
	return r
}

// matches reports whether the End event e is the call c expects.
func (c *ExpectedCall) matches(e *trace.Event) bool {
	failed := e.Err != nil
	switch c.What {
	case "data":
		return !failed && e.N > 0
	case "eof":
		return e.EOF()
	case "connection":
		return !failed && e.Remote != "" && e.Step == 11
	case "listener":
		return !failed && e.Remote == "" && e.Step == 11
	}
	return !failed
}

// storyOf returns events as the story reads them: without the End of a
// call that would have waited (EAGAIN, EWOULDBLOCK, EINPROGRESS), and with
// a connect's End where a non-blocking connect's program learned it was
// connected (the End marked Connected: its getsockopt(SO_ERROR) or first
// write or read), just before that End.
func storyOf(events []trace.Event) []trace.Event {
	var out []trace.Event
	for _, e := range events {
		if e.Phase == trace.End {
			switch e.Errno {
			case "EAGAIN", "EWOULDBLOCK", "EINPROGRESS":
				continue
			}
			if e.Connected {
				c := e
				c.Op, c.Step, c.Connected = trace.OpConnect, 7, false
				out = append(out, c)
			}
		}
		out = append(out, e)
	}
	return out
}

// succeeded returns events without the calls that failed: the End that
// carries the error, and its Begin (the same process's last Begin of the
// same call before it).
func succeeded(events []trace.Event) []trace.Event {
	drop := make([]bool, len(events))
	for i, e := range events {
		if e.Phase != trace.End || e.Err == nil {
			continue
		}
		drop[i] = true
		for j := i - 1; j >= 0; j-- {
			b := events[j]
			if b.Phase == trace.Begin && b.PID == e.PID && b.Peer == e.Peer && b.Op == e.Op {
				drop[j] = true
				break
			}
		}
	}
	var out []trace.Event
	for i, e := range events {
		if !drop[i] {
			out = append(out, e)
		}
	}
	return out
}
