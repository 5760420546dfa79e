// Package wire is the wire view's event source: it captures the packets a
// run sends on this machine's loopback and hands each to the tracer as an
// event of its own (op "packet"), stamped by the kernel as it went out,
// between the calls it happened among.
//
// A Capture is a [trace.Wire]: the tracer shows it each call's event, from
// which it learns the ports to watch (a server's, once bound; the one a
// client connects to, before it connects) and whose addresses are whose,
// and asks it, before each call's event, for the packets stamped earlier.
// A packet a call sends is in the capture's queue when the call returns
// (loopback hands packets over as they are sent), so the trace reads in
// the order things happened.
//
// Capture needs CAP_NET_RAW and is Linux-only for now; [Open] says why
// when it cannot.
package wire

import (
	"errors"
	"slices"
	"time"

	"github.com/socklab/socklab/trace"
)

// ErrNotPermitted is why Open fails without CAP_NET_RAW.
var ErrNotPermitted = errors.New("capturing packets needs CAP_NET_RAW")

// ErrUnsupported is why Open fails on a system other than Linux.
var ErrUnsupported = errors.New("the wire view is Linux-only for now")

// A Summary is what a capture says of itself when it is closed.
type Summary struct {
	// Watched counts the ports the capture watched: none when the run
	// used no TCP or UDP port (a Unix socket never reaches the network).
	Watched int
	// Shown counts the packets handed to the tracer.
	Shown int
	// Captured is the kernel's count of the packets its filter kept for
	// the capture during the run (PACKET_STATISTICS): Shown and Dropped
	// together, when nothing went missing.
	Captured int
	// Dropped counts the packets the kernel kept for the capture but
	// could not queue (its buffer was full), and the frames that were not
	// packets socklab can read: none were shown.
	Dropped int
	// ClockMoved is how far the kernel's clock (wall time, which stamps
	// packets) moved against the tracer's (monotonic) during the run, as
	// measured at its start and end: packet times are off by as much.
	ClockMoved time.Duration
}

// A timeline holds the packets read and not yet handed over, in time
// order, until the trace reaches their time.
type timeline struct {
	pending []trace.Event
}

// add puts a packet in its place. Stamps come in the order packets went
// out, almost: two CPUs sending at once may queue theirs a little out of
// order, so a packet goes after every one stamped no later.
func (tl *timeline) add(e trace.Event) {
	i := len(tl.pending)
	for i > 0 && tl.pending[i-1].Time > e.Time {
		i--
	}
	tl.pending = slices.Insert(tl.pending, i, e)
}

// until hands over, in order, the packets stamped at or before t, and
// says how many.
func (tl *timeline) until(t time.Duration, emit func(trace.Event)) int {
	n := 0
	for n < len(tl.pending) && tl.pending[n].Time <= t {
		n++
	}
	for _, e := range tl.pending[:n] {
		emit(e)
	}
	tl.pending = slices.Delete(tl.pending, 0, n)
	return n
}

// A reading is the wall clock read between two readings of the trace's
// clock.
type reading struct {
	before, after time.Duration // the trace's clock
	wall          int64         // nanoseconds
}

// wallAtStart returns the wall clock's reading when the trace started,
// from the tightest of readings: the one whose trace-clock bracket is
// narrowest says best when the wall clock was read (at its middle).
func wallAtStart(readings []reading) int64 {
	best := readings[0]
	for _, r := range readings[1:] {
		if r.after-r.before < best.after-best.before {
			best = r
		}
	}
	return best.wall - int64(best.before+(best.after-best.before)/2)
}
