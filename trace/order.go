package trace

import (
	"errors"
	"fmt"
)

// A Point names one event of a run: the nth event of a
// peer with this op and phase. With EOF set, only reads that returned 0 count.
type Point struct {
	Peer  string
	Op    Op
	Phase Phase
	// Occurrence counts from 1; 0 means 1.
	Occurrence int
	EOF        bool
}

// BeginOf and EndOf name the first Begin or End of a peer's op.
func BeginOf(peer string, op Op) Point { return Point{Peer: peer, Op: op, Phase: Begin} }
func EndOf(peer string, op Op) Point   { return Point{Peer: peer, Op: op, Phase: End} }

// Nth returns p naming the nth such event instead of the first.
func (p Point) Nth(n int) Point { p.Occurrence = n; return p }

// AtEOF returns p counting only reads that returned 0 (end of file).
func (p Point) AtEOF() Point { p.EOF = true; return p }

func (p Point) String() string {
	s := fmt.Sprintf("%s %s", p.Peer, p.Op)
	if p.EOF {
		s += "(EOF)"
	}
	if p.Occurrence > 1 {
		s += fmt.Sprintf("#%d", p.Occurrence)
	}
	return s + " " + string(p.Phase)
}

// Find returns the event p names, if it happened. For a Begin with EOF set,
// it is the Begin of the read that returned 0.
func Find(events []Event, p Point) (Event, bool) {
	want := max(p.Occurrence, 1)
	var lastBegin Event
	for _, e := range events {
		if e.Peer != p.Peer || e.Op != p.Op {
			continue
		}
		if e.Phase == Begin {
			lastBegin = e
		}
		if p.EOF {
			if e.EOF() {
				if want--; want == 0 {
					if p.Phase == Begin {
						return lastBegin, true
					}
					return e, true
				}
			}
			continue
		}
		if e.Phase != p.Phase {
			continue
		}
		if want--; want == 0 {
			return e, true
		}
	}
	return Event{}, false
}

// A Rule says that one event must come before another in every run:
// Before's sequence number is smaller than After's. Across peers, only write
// rules that causality guarantees, cause.Begin before effect.End (see the
// package doc); a rule that fails once in a thousand runs is a wrong rule.
type Rule struct {
	Before, After Point
}

func (r Rule) String() string { return r.Before.String() + " < " + r.After.String() }

// CheckOrder returns an error for every rule the events break, joined, or
// nil when they keep them all. A rule whose events did not both happen is
// broken.
func CheckOrder(events []Event, rules ...Rule) error {
	var errs []error
	for _, r := range rules {
		before, ok1 := Find(events, r.Before)
		after, ok2 := Find(events, r.After)
		switch {
		case !ok1:
			errs = append(errs, fmt.Errorf("rule %v: %v never happened", r, r.Before))
		case !ok2:
			errs = append(errs, fmt.Errorf("rule %v: %v never happened", r, r.After))
		case before.Seq >= after.Seq:
			errs = append(errs, fmt.Errorf("rule %v broken: got seq %d, then seq %d", r, before.Seq, after.Seq))
		}
	}
	return errors.Join(errs...)
}

// PeerCalls returns one peer's calls in order, one name per call ("read" for
// a read that got data, "read(EOF)" for one that returned 0), and an error if
// the peer's events do not pair up as Begin then End of the same call: one
// peer runs its calls one after another, so they always should.
func PeerCalls(events []Event, peer string) ([]string, error) {
	var calls []string
	var open *Event
	for i := range events {
		e := &events[i]
		if e.Peer != peer {
			continue
		}
		switch {
		case e.Phase == Begin && open == nil:
			open = e
		case e.Phase == End && open != nil && open.Op == e.Op && (open.FD == e.FD || e.Op == OpCreate):
			name := string(e.Op)
			if e.EOF() {
				name += "(EOF)"
			}
			calls = append(calls, name)
			open = nil
		default:
			return calls, fmt.Errorf("%s: seq %d (%s %s) does not pair with the call before it", peer, e.Seq, e.Op, e.Phase)
		}
	}
	if open != nil {
		return calls, fmt.Errorf("%s: %s (seq %d) never ended", peer, open.Op, open.Seq)
	}
	return calls, nil
}
