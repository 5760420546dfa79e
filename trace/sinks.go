package trace

import (
	"cmp"
	"errors"
	"slices"
	"sync"
)

// Discard is a sink that drops every event.
var Discard Sink = discard{}

type discard struct{}

func (discard) Handle(Event) error { return nil }

// Multi returns a sink that hands every event to each of sinks in turn and
// returns their errors joined.
func Multi(sinks ...Sink) Sink {
	return multi(slices.Clone(sinks))
}

type multi []Sink

func (m multi) Handle(e Event) error {
	var errs []error
	for _, s := range m {
		if err := s.Handle(e); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// A Recorder keeps every event in memory, for tests and for tools that look
// at a whole run. Its zero value is ready to use.
type Recorder struct {
	mu     sync.Mutex
	events []Event
}

// Handle records e, copying its data.
func (r *Recorder) Handle(e Event) error {
	if e.Data != nil {
		e.Data = slices.Clone(e.Data)
	}
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	return nil
}

// Events returns the events recorded so far, in sequence order.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	events := slices.Clone(r.events)
	r.mu.Unlock()
	// One tracer hands events over in order, but a recorder may serve
	// several tracers.
	slices.SortFunc(events, func(a, b Event) int {
		return cmp.Compare(a.Seq, b.Seq)
	})
	return events
}
