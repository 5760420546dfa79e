package trace

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// A Gate decides when a traced call may begin. Wait is called before the
// call's Begin is recorded and its syscall made; an error stops the call
// there, untraced. Wait is called concurrently from every peer.
type Gate interface {
	Wait(e *Event) error
}

// ErrStopped is returned by a Conductor's Wait once the person at the
// keyboard asked to stop (q at a step prompt).
var ErrStopped = errors.New("stopped at the user's request")

// A Pace is what a Conductor does before letting a call begin: print what
// is about to happen and wait for Enter, or sleep a while. It returns
// ErrStopped to stop the run.
type Pace func(ctx context.Context, e *Event) error

// A Conductor is a Gate that plays a run in the lesson's teaching order,
// one call at a time, at the pace a person sets. The script lists the calls
// it gates, as the Begins of (peer, op) in the order the lesson teaches
// them; the nth call of a peer's op is the nth entry for it. A call the
// script does not list (getsockname, a read beyond the script) begins
// freely. With no script, every call that is a lesson step is gated, in the
// order it comes: that is the pace of one peer on its own.
//
// Gating a call does not change what it does: a call that blocks still
// really blocks, while the other peer goes on with its turns.
//
// Once a run stops (ErrStopped, or ctx done), close and shutdown pass
// without waiting, so that every socket is closed and its close traced.
//
// A pause changes nothing: while the pace runs, the tracer's [Stopwatch]
// is held, so no bound a lesson keeps through [Peer.Within] runs down
// while a person thinks, and the stall watch does not count it either.
//
// When the peers leave the script, the conductor says so at once instead
// of waiting for ever: the entry whose turn it is belongs to a peer that
// is waiting for another of its calls' turns (the script expects the
// client to read; the client called close). The run then stops with a
// *[DivergenceError], which every waiting call gets; closes still pass.
type Conductor struct {
	ctx    context.Context
	pace   Pace
	script []Point
	tracer *Tracer       // the tracer whose gate this is (SetGate)
	settle time.Duration // see Settle
	coming func() bool   // see ClientFirst

	paceMu  sync.Mutex // one pace at a time: one prompt, one person
	mu      sync.Mutex
	cursor  int             // the script entry whose turn it is
	seen    map[peerOp]int  // calls of each peer's op so far
	done    map[string]bool // peers that finished: their entries are skipped
	pending map[string]int  // peer → the turn it holds until its Begin is recorded
	waiting map[string]int  // peer → the turn it waits for
	stopped error           // why the run stops, once it does
	changed chan struct{}   // closed and replaced at every change
}

type peerOp struct {
	peer string
	op   Op
}

// NewConductor returns a conductor that paces calls with pace, in the
// order of script (see Conductor), until ctx is done.
func NewConductor(ctx context.Context, script []Point, pace Pace) *Conductor {
	return &Conductor{ctx: ctx, pace: pace, script: script, seen: map[peerOp]int{}, done: map[string]bool{}, pending: map[string]int{}, waiting: map[string]int{}, changed: make(chan struct{})}
}

// attach is called by Tracer.SetGate: the conductor holds that tracer's
// stopwatch while it paces, and tells it which peers wait for their turn.
func (c *Conductor) attach(t *Tracer) { c.tracer = t }

// Settle makes the conductor wait, before each pace, until the calls in
// flight have had their say: until no event has come for d (at most
// settleMax). A call that is about to return (an accept whose connection
// is queued, a read whose bytes have come) then prints its End before the
// next step's prompt, so that a person reads the steps in order; a call
// that really waits for the next step stays in flight. It returns c.
func (c *Conductor) Settle(d time.Duration) *Conductor {
	c.settle = d
	return c
}

// ClientFirst keeps, with no script, the teaching order of a server and
// its clients run as separate programs: a server's accept (step 6) waits,
// before its pace, until a client's connect has begun (steps 4 and 5
// come first) for as long as coming says a client may still connect. So
// a class held before accept sees the handshake done and queued (ss:
// Recv-Q 1) and the client's connect returned, as the lesson teaches. It
// returns c.
func (c *Conductor) ClientFirst(coming func() bool) *Conductor {
	c.coming = coming
	return c
}

// settleMax bounds the wait of Settle: a run whose peers keep busy does
// not keep the next prompt back.
const settleMax = 250 * time.Millisecond

// A DivergenceError says that the peers' calls left the conductor's
// script: Want's turn had come, and its peer asked for another call (Got)
// instead.
type DivergenceError struct {
	Want Point
	Got  Op
}

func (e *DivergenceError) Error() string {
	return fmt.Sprintf("the script expects the %s to %s; the %s called %s", e.Want.Peer, e.Want.Op, e.Want.Peer, e.Got)
}

// Reason names the cause in the trace (sock.Reasoner).
func (e *DivergenceError) Reason() string { return "diverged" }

// Wait lets e's call begin when its turn has come and the pace allows.
func (c *Conductor) Wait(e *Event) error {
	closing := e.Op == OpClose || e.Op == OpShutdown
	c.mu.Lock()
	if err := c.stopErr(); err != nil {
		c.mu.Unlock()
		return refuse(err, closing)
	}
	k := peerOp{e.Peer, e.Op}
	c.seen[k]++
	turn, gated := c.turnOf(k, c.seen[k], e)
	if !gated {
		c.mu.Unlock()
		return nil
	}
	if turn < 0 && c.coming != nil && e.Op == OpAccept && e.Role == Server {
		c.awaitClient()
	}
	if turn >= 0 {
		c.waiting[e.Peer] = turn
		c.checkDivergence()
		c.mu.Unlock()
		c.tracer.setTurn(e.Peer, e.Op) // not under c.mu: it takes the tracer's lock
		c.mu.Lock()
	}
	for turn >= 0 {
		// This call may itself have found the divergence (above), or
		// the run may have stopped while the lock was let go.
		if err := c.stopErr(); err != nil {
			delete(c.waiting, e.Peer)
			c.mu.Unlock()
			c.tracer.setTurn(e.Peer, "")
			return refuse(err, closing)
		}
		c.skipDone()
		if c.cursor >= turn {
			break
		}
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
		case <-c.ctx.Done():
		}
		c.mu.Lock()
	}
	delete(c.waiting, e.Peer)
	c.mu.Unlock()
	c.tracer.setTurn(e.Peer, "")

	// The pace runs outside the lock, with the stopwatch held; the turn
	// passes on only once this call's Begin is recorded (Begun), so the
	// Begins keep the script's order in the trace too.
	c.paceMu.Lock()
	// The run may have stopped while this call waited for the pace: a
	// person's q stops every peer, not just the one whose step it was.
	c.mu.Lock()
	stopped := c.stopErr()
	c.mu.Unlock()
	if stopped != nil {
		c.paceMu.Unlock()
		return refuse(stopped, closing)
	}
	c.awaitSettled()
	release := c.hold()
	err := c.pace(c.ctx, e)
	release()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil && c.stopped == nil {
		c.stopped = err // before the next call may take the pace
	}
	c.paceMu.Unlock()
	if err != nil {
		c.broadcast()
		return refuse(err, closing)
	}
	if turn >= 0 {
		c.pending[e.Peer] = turn
	}
	return nil
}

// awaitClient waits until a client's connect has begun that no accept
// has taken, no client may still come, or the run stops. c.mu is held,
// and let go while it waits.
func (c *Conductor) awaitClient() {
	for c.stopErr() == nil && c.tracer != nil && !c.tracer.connectAhead() && c.coming() {
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
		case <-c.ctx.Done():
		case <-time.After(20 * time.Millisecond): // a client may have ended
		}
		c.mu.Lock()
	}
}

// Begun passes the turn on: e's Begin has been recorded.
func (c *Conductor) Begun(e *Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.Op == OpConnect {
		c.broadcast() // a server's accept may wait for it (ClientFirst)
	}
	if turn, ok := c.pending[e.Peer]; ok {
		delete(c.pending, e.Peer)
		c.cursor = turn + 1
		c.checkDivergence()
		c.broadcast()
	}
}

// skipDone moves the cursor past the entries of peers that finished. c.mu
// is held.
func (c *Conductor) skipDone() {
	for c.cursor < len(c.script) && c.done[c.script[c.cursor].Peer] {
		c.cursor++
	}
}

// checkDivergence stops the run if the entry whose turn it is belongs to a
// peer that waits for the turn of another entry: a peer makes one call at
// a time, so it will never make the one the script expects. c.mu is held.
func (c *Conductor) checkDivergence() {
	if c.stopErr() != nil {
		return // a run that stops closes its sockets in any order
	}
	c.skipDone()
	if c.cursor >= len(c.script) {
		return
	}
	want := c.script[c.cursor]
	if _, pending := c.pending[want.Peer]; pending {
		return // its turn is granted: its Begin is on the way
	}
	if turn, ok := c.waiting[want.Peer]; ok && turn != c.cursor {
		c.stopped = &DivergenceError{Want: want, Got: c.script[turn].Op}
		c.broadcast()
	}
}

// Stop stops the run for cause, unless it already stopped: from now on
// every call but the closes is refused, and closes pass at once, so that a
// run that failed (a peer's error, a stall) closes its sockets without
// waiting for their turns or a person's Enter, and its teardown is never
// taken for a divergence. The first cause is the one Err reports.
func (c *Conductor) Stop(cause error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped == nil {
		c.stopped = cause
		c.broadcast()
	}
}

// Err returns why the run stopped, once it did: ErrStopped, a
// *DivergenceError, or nil. A run whose peers left the script may have
// had only closes left to make, which pass: the run's own error is then
// nil, and this is where the divergence is.
func (c *Conductor) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopped
}

// hold holds the tracer's stopwatch while a person (or --delay) paces.
func (c *Conductor) hold() (release func()) {
	if c.tracer == nil {
		return func() {}
	}
	return c.tracer.watch.Hold()
}

// awaitSettled waits, with Settle set, until no event has come for the
// settle time, or settleMax passed.
func (c *Conductor) awaitSettled() {
	if c.settle <= 0 || c.tracer == nil {
		return
	}
	// An accept whose connection is queued will return: wait for its
	// line (step 8 before the prompt for step 9), for up to a second.
	for due := time.Now().Add(time.Second); c.tracer.acceptDue() && time.Now().Before(due) && c.ctx.Err() == nil; {
		time.Sleep(time.Millisecond)
	}
	// Any other call about to return: until no event came for the settle
	// time, or settleMax passed.
	deadline := time.Now().Add(settleMax)
	last := c.tracer.lastSeq()
	for time.Now().Before(deadline) {
		select {
		case <-time.After(c.settle):
		case <-c.ctx.Done():
			return
		}
		seq := c.tracer.lastSeq()
		if seq == last {
			return
		}
		last = seq
	}
}

// turnOf returns the script entry of the nth call of k, or -1 when there
// is no script and the call is a step; gated is false when the call begins
// freely.
func (c *Conductor) turnOf(k peerOp, nth int, e *Event) (turn int, gated bool) {
	if c.script == nil {
		return -1, e.Step > 0
	}
	for i, p := range c.script {
		if p.Peer == k.peer && p.Op == k.op {
			if nth--; nth == 0 {
				return i, true
			}
		}
	}
	return -1, false
}

// PeerDone tells the conductor that a peer has finished (or failed): its
// remaining entries are skipped, so the other peer is not kept waiting.
func (c *Conductor) PeerDone(peer string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done[peer] = true
	c.checkDivergence()
	c.broadcast()
}

// refuse is a stopped run's answer to a call: no, except to the calls
// that close, so that every socket is closed and its close traced.
func refuse(stop error, closing bool) error {
	if closing {
		return nil
	}
	return stop
}

func (c *Conductor) stopErr() error {
	if c.stopped != nil {
		return c.stopped
	}
	if c.ctx.Err() != nil {
		return context.Cause(c.ctx)
	}
	return nil
}

func (c *Conductor) broadcast() {
	close(c.changed)
	c.changed = make(chan struct{})
}
