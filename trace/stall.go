package trace

import (
	"context"
	"strings"
	"sync"
	"time"
)

// StallAfter is how long every peer of a run may wait for another, with
// no event at all, before [Tracer.WatchStalls] calls the run stuck. On
// loopback a wait that can end ends within microseconds; a second of
// machine time (a person's pause does not count) with every peer waiting
// and nothing happening is a run whose peers wait for each other: a lesson
// changed so that both read, or a script the peers left.
const StallAfter = time.Second

// stallPoll is how often the stall watch looks, at most: a shorter watch
// (SetStallAfter) looks twice as often as its time.
const stallPoll = 50 * time.Millisecond

// A StallError is the cause of a run the stall watch stopped: every peer
// was waiting for another, and none could go on.
type StallError struct {
	Peers []StalledPeer
}

// A StalledPeer is what one peer of a stalled run was waiting in.
type StalledPeer struct {
	Peer string
	Op   Op
	// Turn: the peer was not in a call but waiting for its turn in the
	// conductor's script, to make a call of Op.
	Turn bool
	// Others: the peer was not in a call but waiting for the other
	// peers' calls of Op (Peer.Awaits).
	Others bool
}

// Reason names the cause in the trace (sock.Reasoner).
func (e *StallError) Reason() string { return "stall" }

// Kind says what the stalled peers were doing alike: "reading" when
// every one of two or more was in a read, "writing" when every one was in
// a write (each buffer full), "" otherwise; and "connect" when one was in
// a connect, whatever the others did: on loopback a connect that waits is
// the kernel resending a SYN the listener's full accept queue dropped
// (the kernel's own retries, a minute or two), the first cause to name.
func (e *StallError) Kind() string {
	for _, p := range e.Peers {
		if !p.Turn && !p.Others && p.Op == OpConnect {
			return "connect"
		}
	}
	if len(e.Peers) < 2 {
		return ""
	}
	kind := ""
	for i, p := range e.Peers {
		k := ""
		switch {
		case p.Turn:
		case p.Op == OpRead || p.Op == OpRecvfrom:
			k = "reading"
		case p.Op == OpWrite:
			k = "writing"
		}
		if k == "" || i > 0 && k != kind {
			return ""
		}
		kind = k
	}
	return kind
}

func (e *StallError) Error() string {
	both := len(e.Peers) == 2
	switch e.Kind() {
	case "reading":
		if both {
			return "both peers are reading: each waits for the other to write"
		}
		return "every peer is reading: each waits for another to write"
	case "connect":
		return "a connect waits on the kernel's SYN retries: the listening socket's accept queue is full and nobody accepts"
	case "writing":
		if both {
			return "both peers are writing and neither reads: each waits for the other to read"
		}
		return "every peer is writing and none reads: each waits for another to read"
	}
	var parts []string
	for _, p := range e.Peers {
		parts = append(parts, p.String())
	}
	return "no peer can go on: " + strings.Join(parts, ", ")
}

func (p StalledPeer) String() string {
	if p.Others {
		return "the " + p.Peer + " waits for the others' " + string(p.Op)
	}
	if p.Turn {
		return "the " + p.Peer + " waits for its turn to " + string(p.Op) + " (the script's order)"
	}
	return "the " + p.Peer + " waits in " + string(p.Op)
}

// note keeps what the peer is doing, from each of its events. t.mu is held.
func (p *Peer) note(e *Event) {
	d := 1
	if e.Phase == End {
		d = -1
	}
	// A call on a non-blocking socket never waits in the kernel.
	if !e.Nonblock && (e.Op.Blocks() || e.Op == OpWrite) {
		p.waiting = max(p.waiting+d, 0)
		if e.Phase == Begin {
			p.waitOp = e.Op
		}
		return
	}
	p.busy = max(p.busy+d, 0)
}

// stuck reports whether the peer can do nothing until another acts, and
// in what. t.mu is held.
func (p *Peer) stuck() (StalledPeer, bool) {
	switch {
	case p.busy > 0 || p.selfBound > 0:
		return StalledPeer{}, false
	case p.waiting > 0:
		return StalledPeer{Peer: p.name, Op: p.waitOp}, true
	case p.awaiting > 0:
		return StalledPeer{Peer: p.name, Op: p.awaitOp, Others: true}, true
	case p.turn != "":
		return StalledPeer{Peer: p.name, Op: p.turn, Turn: true}, true
	}
	return StalledPeer{}, false
}

// countConnections keeps the counts behind acceptDue. t.mu is held.
func (t *Tracer) countConnections(e *Event) {
	switch {
	case e.Op == OpConnect && e.Phase == Begin:
		t.connectsBegun++
	case e.Op == OpAccept && e.Phase == End && e.Err == nil:
		t.acceptedAny++
	}
	switch {
	case e.Op == OpConnect && e.Phase == End && e.Err == nil:
		t.connects++
	case e.Op == OpAccept && e.Phase == Begin && !e.Nonblock:
		t.accepting++
	case e.Op == OpAccept && e.Phase == End && !e.Nonblock:
		t.accepting = max(t.accepting-1, 0)
		if e.Err == nil {
			t.accepts++
		}
	}
}

// acceptDue reports whether an accept is in flight while a connection it
// can take is queued: a connect returned (the handshake is done) that no
// accept has taken yet. Such an accept returns without anyone acting.
func (t *Tracer) acceptDue() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.accepting > 0 && t.connects > t.accepts
}

// Awaits tells the stall watch that the peer waits, outside any call, for
// the other peers' calls of op (a server that lets its clients connect
// before it accepts), until done is called: a run whose every peer then
// waits is stuck as surely as one whose peers are all in calls.
func (p *Peer) Awaits(op Op) (done func()) {
	if p == nil {
		return func() {}
	}
	t := p.tracer
	t.mu.Lock()
	p.awaiting++
	p.awaitOp = op
	t.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			p.awaiting--
			t.mu.Unlock()
		})
	}
}

// connectAhead reports whether a connect has begun that no accept has
// taken yet.
func (t *Tracer) connectAhead() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.connectsBegun > t.acceptedAny
}

// setTurn records that the named peer waits for its turn to make a call of
// op ("" once it has it). A conductor calls it.
func (t *Tracer) setTurn(peer string, op Op) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range t.peers {
		if p.name == peer {
			p.turn = op
		}
	}
}

// lastSeq returns the sequence number of the latest event.
func (t *Tracer) lastSeq() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.seq
}

// stalled returns the sequence number so far and, when every live peer is
// stuck, what each waits in.
func (t *Tracer) stalled() (seq uint64, peers []StalledPeer, all bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range t.peers {
		s, ok := p.stuck()
		if !ok {
			return t.seq, nil, false
		}
		peers = append(peers, s)
	}
	return t.seq, peers, len(peers) > 0
}

// Within returns a copy of ctx cancelled with cause once d of machine time
// has passed (see [Stopwatch.Within]): the bound a lesson puts on a wait,
// which a person's pause does not use up. A bound no longer than
// [StallAfter] also tells the stall watch that the peer's wait ends by
// itself. A nil Peer's bound is context.WithTimeoutCause's.
func (p *Peer) Within(ctx context.Context, d time.Duration, cause error) (context.Context, context.CancelFunc) {
	if p == nil {
		return context.WithTimeoutCause(ctx, d, cause)
	}
	ctx, cancel := p.tracer.watch.Within(ctx, d, cause)
	release := p.EndsWithin(d)
	return ctx, func() { release(); cancel() }
}

// EndsWithin tells the stall watch that the peer's waits end by themselves
// within d (a socket with SO_RCVTIMEO, a bound of its own), until release
// is called. A d longer than the watch's time ([StallAfter] by default)
// changes nothing: the watch speaks first.
func (p *Peer) EndsWithin(d time.Duration) (release func()) {
	if p == nil || d > p.tracer.stallAfter {
		return func() {}
	}
	t := p.tracer
	t.mu.Lock()
	p.selfBound++
	t.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			p.selfBound--
			t.mu.Unlock()
		})
	}
}

// WatchStalls returns a copy of ctx that is cancelled with a *[StallError],
// after the tracer's gate is stopped with it,
// when every live peer (made by Peer, not yet Done) has waited for another
// for [StallAfter] of machine time with no event at all: a run whose peers
// wait for each other then fails in a second, saying who waits in what,
// instead of waiting for ever or for its longest bound. A peer waits when
// it is in a read, accept, connect or write, or waits for its turn in a
// conductor's script. Only a run whose every peer is in this process
// should be watched: a lone client's read waits for a peer the tracer does
// not know. stop ends the watch; call it when the run is over.
func (t *Tracer) WatchStalls(ctx context.Context) (_ context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	if t == nil {
		return ctx, func() { cancel(context.Canceled) }
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		watch := t.watch
		tick := time.NewTicker(min(stallPoll, max(t.stallAfter/2, time.Millisecond)))
		defer tick.Stop()
		lastSeq, since := uint64(0), watch.Unheld()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			seq, peers, all := t.stalled()
			now := watch.Unheld()
			if !all || seq != lastSeq {
				lastSeq, since = seq, now
				continue
			}
			if now-since >= t.stallAfter {
				stall := &StallError{Peers: peers}
				// The gate stops before any peer is woken, so that their
				// closes pass at once (see Tracer.StopGate).
				t.StopGate(stall)
				cancel(stall)
				return
			}
		}
	})
	return ctx, func() {
		cancel(context.Canceled)
		wg.Wait()
	}
}
