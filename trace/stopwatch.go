package trace

import (
	"context"
	"sync"
	"time"
)

// A Clock tells the time and runs a function later. The real one is the
// system's; a test may give a [Tracer] a fake one (SetClock) to play a
// minute's pause in no time at all.
type Clock interface {
	Now() time.Time
	// AfterFunc runs f once d has passed; stop cancels it, reporting
	// whether it did so before f ran (as time.Timer's Stop does).
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }
func (systemClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

// A Stopwatch measures machine time: the time in which no person holds the
// run. A Conductor holds it while its pace runs (a step prompt waiting for
// Enter, a --delay), and every bound a lesson keeps runs on it (see
// [Peer.Within]), so that a pause of any length changes nothing: a bound
// exists so that a machine never waits for ever, and must not run out
// because a teacher is thinking. Holds nest; the watch runs again when the
// last one is released.
type Stopwatch struct {
	clock Clock

	mu        sync.Mutex
	start     time.Time
	holds     int
	heldSince time.Time     // when the first of the current holds began
	held      time.Duration // the total of the holds that ended
	bounds    map[*bound]struct{}
}

func newStopwatch(c Clock) *Stopwatch {
	return &Stopwatch{clock: c, start: c.Now(), bounds: map[*bound]struct{}{}}
}

// bound is one Within: it fires after left of unheld time.
type bound struct {
	left    time.Duration
	armedAt time.Time
	stop    func() bool // the armed timer's, or nil while held
	gen     int         // a timer of an older generation must not fire
	over    bool        // fired or cancelled
	fire    func()
}

// Hold stops the watch until release is called (once; later calls do
// nothing). Bounds pause with it.
func (w *Stopwatch) Hold() (release func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.holds++; w.holds == 1 {
		now := w.clock.Now()
		w.heldSince = now
		for b := range w.bounds {
			b.pause(now)
		}
	}
	var once sync.Once
	return func() { once.Do(w.release) }
}

func (w *Stopwatch) release() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.holds--; w.holds == 0 {
		now := w.clock.Now()
		w.held += now.Sub(w.heldSince)
		for b := range w.bounds {
			w.arm(b, now)
		}
	}
}

// Unheld returns the machine time since the watch was made: the time no
// one held it.
func (w *Stopwatch) Unheld() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.clock.Now()
	d := now.Sub(w.start) - w.held
	if w.holds > 0 {
		d -= now.Sub(w.heldSince)
	}
	return d
}

// Within returns a copy of ctx that is cancelled with cause once d of
// machine time has passed: like context.WithTimeoutCause, except that the
// time in which the watch is held does not count. Call cancel as soon as
// the bounded work is over.
func (w *Stopwatch) Within(ctx context.Context, d time.Duration, cause error) (context.Context, context.CancelFunc) {
	if w == nil { // a nil Tracer's: no one holds it
		return context.WithTimeoutCause(ctx, d, cause)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	b := &bound{left: d, fire: func() { cancel(cause) }}
	w.mu.Lock()
	w.bounds[b] = struct{}{}
	if w.holds == 0 {
		w.arm(b, w.clock.Now())
	}
	w.mu.Unlock()
	return ctx, func() {
		w.mu.Lock()
		if !b.over {
			b.over = true
			b.pause(w.clock.Now())
			delete(w.bounds, b)
		}
		w.mu.Unlock()
		cancel(context.Canceled)
	}
}

// arm starts b's timer for what is left of it. w.mu is held.
func (w *Stopwatch) arm(b *bound, now time.Time) {
	b.gen++
	gen := b.gen
	b.armedAt = now
	b.stop = w.clock.AfterFunc(b.left, func() { w.expire(b, gen) })
}

// pause stops b's timer and keeps what is left of it. w.mu is held.
func (b *bound) pause(now time.Time) {
	if b.stop == nil {
		return
	}
	b.gen++ // a timer already firing finds itself outdated
	b.stop()
	b.stop = nil
	b.left = max(b.left-now.Sub(b.armedAt), 0)
}

func (w *Stopwatch) expire(b *bound, gen int) {
	w.mu.Lock()
	if b.over || b.gen != gen {
		w.mu.Unlock()
		return
	}
	b.over = true
	b.stop = nil
	delete(w.bounds, b)
	w.mu.Unlock()
	b.fire()
}
