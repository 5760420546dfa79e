package trace

import (
	"errors"
	"slices"
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
