package trace

import (
	"context"
	"errors"
	"sync"
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
type Conductor struct {
	ctx    context.Context
	pace   Pace
	script []Point

	paceMu  sync.Mutex // one pace at a time: one prompt, one person
	mu      sync.Mutex
	cursor  int             // the script entry whose turn it is
	seen    map[peerOp]int  // calls of each peer's op so far
	done    map[string]bool // peers that finished: their entries are skipped
	pending map[string]int  // peer → the turn it holds until its Begin is recorded
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
	return &Conductor{ctx: ctx, pace: pace, script: script, seen: map[peerOp]int{}, done: map[string]bool{}, pending: map[string]int{}, changed: make(chan struct{})}
}

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
	for turn >= 0 {
		for c.cursor < len(c.script) && c.done[c.script[c.cursor].Peer] {
			c.cursor++
		}
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
		if err := c.stopErr(); err != nil {
			c.mu.Unlock()
			return refuse(err, closing)
		}
	}
	c.mu.Unlock()

	// The pace runs outside the lock; the turn passes on only once this
	// call's Begin is recorded (Begun), so the Begins keep the script's
	// order in the trace too.
	c.paceMu.Lock()
	err := c.pace(c.ctx, e)
	c.paceMu.Unlock()

	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		if c.stopped == nil {
			c.stopped = err
		}
		c.broadcast()
		return refuse(err, closing)
	}
	if turn >= 0 {
		c.pending[e.Peer] = turn
	}
	return nil
}

// Begun passes the turn on: e's Begin has been recorded.
func (c *Conductor) Begun(e *Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if turn, ok := c.pending[e.Peer]; ok {
		delete(c.pending, e.Peer)
		c.cursor = turn + 1
		c.broadcast()
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
