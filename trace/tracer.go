package trace

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// A Sink receives every event of a trace.
//
// Handle is called from every peer's goroutine, once per event, while the
// traced call waits, so it should return quickly (put a sink that writes to
// a terminal behind [Async]). One Tracer hands its
// events over one at a time, in sequence order; a sink shared by several
// tracers is called concurrently, so every sink must be safe for concurrent
// use. It must not retain e.Data after returning. An error from
// Handle does not stop the traced call; the [Tracer] keeps the first one
// (see [Tracer.Err]).
type Sink interface {
	Handle(e Event) error
}

// A Tracer stamps events with a sequence number and a time and hands them to
// its sink. A nil *Tracer, and a nil *Peer, trace nothing at almost no cost.
type Tracer struct {
	sink   Sink
	start  time.Time
	offset time.Duration // from the epoch to start (SetEpoch)

	mu  sync.Mutex // makes stamping and handing over one step
	seq uint64

	kernelState bool
	gate        Gate
	watch       *Stopwatch    // machine time: what a person holds does not count
	stallAfter  time.Duration // see SetStallAfter

	// peers are the Peers made and not yet Done, for the stall watch
	// (stall.go); what each is doing is kept under mu, where its events
	// are stamped.
	peers []*Peer
	// connects and accepts count the connections made and taken, and
	// accepting the accepts in flight: an accept in flight with more
	// connects done than accepts will return (the conductor's Settle).
	connects, accepts, accepting int
	// connectsBegun counts the clients' connects begun and acceptedAny
	// the accepts that returned a connection, blocking or not: while the
	// first is not ahead, no connection is on its way to an accept (the
	// conductor's ClientFirst).
	connectsBegun, acceptedAny int

	err atomic.Pointer[error] // the first error a sink returned

	wire     Wire        // see SetWire
	fromWire func(Event) // hands a wire's event over, made once
}

// A Wire is an event source the kernel stamps itself: the packets of the
// wire view, which are read after they happened. So that a trace still
// reads top to bottom in the order things happened, the tracer asks the
// wire, as it stamps each call's event, for everything stamped before it,
// and hands that over first.
//
// Both methods are called with the tracer's lock held, one call at a time;
// they must not call back into the tracer.
type Wire interface {
	// Observe sees each call's event once it is stamped, before any sink
	// does: a capture learns from it which ports to watch, and whose
	// sockets have which addresses.
	Observe(e *Event)
	// Until calls emit, in time order, for each event the source holds
	// stamped at or before t (since the trace started). The events have
	// no sequence number yet; emit gives them theirs.
	Until(t time.Duration, emit func(Event))
}

// SetWire makes w a source of the trace's events (see [Wire]). Call it
// before the run starts. It returns t.
func (t *Tracer) SetWire(w Wire) *Tracer {
	if t != nil {
		t.wire = w
		t.fromWire = func(e Event) {
			t.seq++
			e.Seq = t.seq
			if err := t.sink.Handle(e); err != nil {
				t.keepErr(err)
			}
		}
	}
	return t
}

// FlushWire hands over what the wire holds stamped until now: its reader
// calls it while no call is being made, so that a packet nobody's call
// follows (a delayed ACK) is not held until the end.
func (t *Tracer) FlushWire() {
	if t == nil || t.wire == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.wire.Until(t.Since(), t.fromWire)
}

// Since returns the time since the trace started, as events are stamped:
// a wire converts the kernel's stamps to it.
func (t *Tracer) Since() time.Duration {
	return t.offset + time.Since(t.start)
}

// SetEpoch stamps events with the time since epoch instead of since the
// trace started. Two tracers in two processes on one machine given the
// same epoch stamp on one clock — socklab server and socklab client, each
// in its terminal, with local midnight — so that a read is never stamped
// before the write it read. The offset is taken once, from the wall
// clock; the stamps then run on the monotonic clock as always. Call it
// before the run starts. It returns t.
func (t *Tracer) SetEpoch(epoch time.Time) *Tracer {
	if t != nil {
		t.offset = t.start.Round(0).Sub(epoch.Round(0))
	}
	return t
}

// New returns a tracer that sends every event to sink. Its clock starts now.
func New(sink Sink) *Tracer {
	if sink == nil {
		sink = Discard
	}
	return &Tracer{sink: sink, start: time.Now(), watch: newStopwatch(systemClock{}), stallAfter: StallAfter}
}

// SetStallAfter sets how long [Tracer.WatchStalls] lets every peer wait,
// with no event, before it calls the run stuck: [StallAfter] by default. A
// test of stuck runs may make it shorter. Call it before the run. It
// returns t.
func (t *Tracer) SetStallAfter(d time.Duration) *Tracer {
	if t != nil {
		t.stallAfter = d
	}
	return t
}

// SetClock makes the tracer's stopwatch, and so every bound a lesson keeps
// through [Peer.Within], run on c instead of the system's clock: a test's
// fake clock plays a long pause at once. Events keep the real time. Call
// it before the run starts. It returns t.
func (t *Tracer) SetClock(c Clock) *Tracer {
	if t != nil {
		t.watch = newStopwatch(c) // a gate reads it from t when it holds it
	}
	return t
}

// Stopwatch returns the tracer's stopwatch: machine time, which stops
// while a person holds the run.
func (t *Tracer) Stopwatch() *Stopwatch {
	if t == nil {
		return nil
	}
	return t.watch
}

// SetKernelState asks traced calls to record the kernel's view of their
// socket (Event.State and the fields after it), at the cost of a getsockopt
// after each call and a read of the kernel's table after each close. It
// returns t.
func (t *Tracer) SetKernelState(on bool) *Tracer {
	if t != nil {
		t.kernelState = on
	}
	return t
}

// SetGate makes every traced call ask g before it begins (see Conductor).
// It returns t.
func (t *Tracer) SetGate(g Gate) *Tracer {
	if t != nil {
		t.gate = g
		if a, ok := g.(interface{ attach(*Tracer) }); ok {
			a.attach(t)
		}
	}
	return t
}

// StopGate tells the tracer's gate, if it stops runs (a [Conductor]),
// that the run is failing for cause: its closes then pass at once.
func (t *Tracer) StopGate(cause error) {
	if t == nil {
		return
	}
	if g, ok := t.gate.(interface{ Stop(error) }); ok {
		g.Stop(cause)
	}
}

// GateErr returns why the tracer's gate stopped the run, if it has a gate
// that stops (a [Conductor]) and it did.
func (t *Tracer) GateErr() error {
	if t == nil {
		return nil
	}
	if g, ok := t.gate.(interface{ Err() error }); ok {
		return g.Err()
	}
	return nil
}

// Err returns the first error a sink returned, if any: for example a closed
// standard output.
func (t *Tracer) Err() error {
	if t == nil {
		return nil
	}
	if err := t.err.Load(); err != nil {
		return *err
	}
	return nil
}

// Peer returns the handle one peer traces its calls through.
func (t *Tracer) Peer(name string, role Role) *Peer {
	if t == nil {
		return nil
	}
	p := &Peer{tracer: t, name: name, role: role}
	t.mu.Lock()
	t.peers = append(t.peers, p)
	t.mu.Unlock()
	return p
}

// emit stamps e and hands it to the sink. Both happen under one lock, so
// sinks see events in sequence order and times never go backwards: a printed
// trace reads top to bottom in the order things happened.
func (t *Tracer) emit(p *Peer, e *Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p.note(e)
	t.countConnections(e)
	e.Time = t.offset + time.Since(t.start)
	if t.wire != nil {
		t.wire.Observe(e)
		t.wire.Until(e.Time, t.fromWire)
	}
	t.seq++
	e.Seq = t.seq
	if err := t.sink.Handle(*e); err != nil {
		t.keepErr(err)
	}
}

// keepErr keeps err if it is the first. It is a function of its own, not
// inlined, because taking err's address moves it to the heap: here only
// when a sink failed, not on every event.
//
//go:noinline
func (t *Tracer) keepErr(err error) {
	t.err.CompareAndSwap(nil, &err)
}

// A Peer traces the calls of one side of the exchange.
type Peer struct {
	tracer *Tracer
	name   string
	role   Role

	// What the peer is doing, for the stall watch; guarded by tracer.mu.
	waiting   int // calls in flight that wait for another peer (read, accept, …)
	busy      int // other calls in flight (close, shutdown, …)
	waitOp    Op  // the op of the latest waiting call
	turn      Op  // the op whose turn the peer waits for in a script, or ""
	selfBound int // bounds short enough to end the wait by themselves
	// awaiting counts waits outside any call for other peers' calls of
	// awaitOp (Awaits): a server that waits for its clients' connects.
	awaiting int
	awaitOp  Op
}

// KernelState reports whether calls should record the kernel's view.
func (p *Peer) KernelState() bool {
	return p != nil && p.tracer.kernelState
}

// Role returns the peer's role.
func (p *Peer) Role() Role {
	if p == nil {
		return ""
	}
	return p.role
}

// Name returns the peer's name ("server", "client", "client-2", …).
func (p *Peer) Name() string {
	if p == nil {
		return ""
	}
	return p.name
}

// Admit asks the tracer's gate, if it has one, whether e's call may begin,
// and waits until it may. A traced call calls it before Begin; an error
// means the call must not be made.
func (p *Peer) Admit(e *Event) error {
	if p == nil || p.tracer.gate == nil {
		return nil
	}
	e.Peer, e.Role, e.Phase = p.name, p.role, Begin
	e.Step = stepOf(p.role, e, Begin)
	return p.tracer.gate.Wait(gateCopy(e))
}

// gateCopy returns a copy of e on the heap for a gate. A Gate is an
// interface, so the compiler cannot know that it does not keep the pointer:
// passing e itself would move every traced call's Event to the heap, gate
// or no gate. The copy is made only when there is a gate (stepping or
// pacing, where a person is the slow part).
func gateCopy(e *Event) *Event {
	c := *e
	return &c
}

// Done tells the tracer's gate that this peer has finished, so that no one
// waits for its turns any more. Lessons call it when a peer returns.
func (p *Peer) Done() {
	if p == nil {
		return
	}
	// A peer that is done is no longer watched for stalls.
	t := p.tracer
	t.mu.Lock()
	t.peers = slices.DeleteFunc(t.peers, func(q *Peer) bool { return q == p })
	t.mu.Unlock()
	if p.tracer.gate == nil {
		return
	}
	if d, ok := p.tracer.gate.(interface{ PeerDone(string) }); ok {
		d.PeerDone(p.name)
	}
}

// Begin records e as the Begin of a call, just before its syscall is issued,
// and returns the time to pass to End. It fills Peer, Role, Phase, Step, Seq
// and Time.
func (p *Peer) Begin(e *Event) time.Time {
	if p == nil {
		return time.Time{}
	}
	e.Peer, e.Role, e.Phase = p.name, p.role, Begin
	e.Step = stepOf(p.role, e, Begin)
	p.tracer.emit(p, e)
	if b, ok := p.tracer.gate.(interface{ Begun(*Event) }); ok {
		b.Begun(gateCopy(e))
	}
	// The clock for Elapsed starts after the sink is done, so a slow
	// terminal is not counted as time blocked in the kernel. Only the
	// monotonic clock is read (time.Now would read the wall clock too):
	// Elapsed is a difference of two monotonic readings either way.
	start := p.tracer.start
	return start.Add(time.Since(start))
}

// End records e as the End of the call begun at began, just after its
// syscall returned. The caller sets Ret, N, Data, Err and Errno first.
func (p *Peer) End(e *Event, began time.Time) {
	if p == nil {
		return
	}
	p.EndMeasured(e, time.Since(began))
}

// EndMeasured records e as the End of a call that an outside observer
// timed: socklab trace measures, from another process's stops, how long
// the call was in the kernel, and elapsed is that.
func (p *Peer) EndMeasured(e *Event, elapsed time.Duration) {
	if p == nil {
		return
	}
	e.Peer, e.Role, e.Phase = p.name, p.role, End
	e.Step = stepOf(p.role, e, End)
	e.Elapsed = elapsed
	p.tracer.emit(p, e)
}

// stepOf is e's step: StepOf, except that a close of one copy of a
// socket whose other copies live on (Event.Copies) is not step 11, and the
// call through which a program learns that its non-blocking connect is
// done (Event.Connected) is step 7.
func stepOf(role Role, e *Event, phase Phase) int {
	if e.Op == OpClose && (e.Copies > 0 || e.Kind == "epoll") {
		return 0 // not the connection's close: an epoll set's is no step either
	}
	if e.Connected && role == Client && phase == End {
		return 7 // where a non-blocking connect's program learns it is done
	}
	return StepOf(role, e.Op, phase, phase == End && e.Err != nil)
}
