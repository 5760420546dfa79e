package trace

import (
	"sync"
)

// An AsyncSink hands events to another sink from a goroutine of its own,
// through a queue of bounded size, so that a traced call does not wait for
// a slow terminal: Handle copies the event into the queue and returns.
//
// Every event is kept, in the order Handle was called. When the queue is
// full, Handle waits until the sink has taken an event from it: a burst of
// up to the queue's size costs the traced calls a copy each, and a run that
// produces events faster than the terminal shows them for longer than that
// goes at the terminal's pace, as it would without the queue. Dropping
// events instead would break the trace's promise of every step, in order.
//
// Because lines now reach the output after the call that made them has
// returned, whatever else writes to the same terminal (a prompt, an error
// line) must call Flush first; and the program must Close the sink before
// it exits, or deciding its exit status, to see the sink's errors.
type AsyncSink struct {
	sink Sink

	mu       sync.Mutex
	nonEmpty sync.Cond // the goroutine waits here for events
	changed  sync.Cond // Handle (queue full) and Flush wait here for the goroutine
	slots    []asyncSlot
	in, out  uint64 // events queued and events handled, since the start
	closed   bool
	err      error // the first error the sink returned
	done     chan struct{}
}

type asyncSlot struct {
	e     Event
	data  []byte // e.Data's copy; its array is kept for the next event
	waits []Wait // e.Waits's, the same way
}

// asyncKeep is the largest data buffer a queue slot keeps for reuse; a
// larger one (a bulk write) is garbage once handled.
const asyncKeep = 4 << 10

// Async returns a sink that hands events to sink in a goroutine of its
// own, through a queue of size events (at least 1). Close it when done.
func Async(sink Sink, size int) *AsyncSink {
	a := &AsyncSink{sink: sink, slots: make([]asyncSlot, max(size, 1)), done: make(chan struct{})}
	a.nonEmpty.L = &a.mu
	a.changed.L = &a.mu
	go a.run()
	return a
}

// Handle queues a copy of e, data included, and returns the first error
// the sink returned so far (an error of this event's own shows in a later
// call, in Flush and in Close). It waits while the queue is full. After
// Close, it hands e to the sink itself.
func (a *AsyncSink) Handle(e Event) error {
	a.mu.Lock()
	for !a.closed && a.in-a.out == uint64(len(a.slots)) {
		a.changed.Wait()
	}
	if a.closed {
		a.mu.Unlock()
		<-a.done // the queue is empty: order is kept
		return a.sink.Handle(e)
	}
	s := &a.slots[a.in%uint64(len(a.slots))]
	if e.Data != nil {
		// Sinks must not keep e.Data: it is the caller's buffer, reused
		// once the call returns.
		s.data = append(s.data[:0], e.Data...)
		e.Data = s.data[:len(e.Data):len(e.Data)]
		if s.data == nil {
			e.Data = []byte{}
		}
	}
	if e.Waits != nil {
		s.waits = append(s.waits[:0], e.Waits...)
		e.Waits = s.waits[:len(e.Waits):len(e.Waits)]
	}
	s.e = e
	a.in++
	a.nonEmpty.Signal()
	err := a.err
	a.mu.Unlock()
	return err
}

// run hands the queued events to the sink, one at a time, in order.
func (a *AsyncSink) run() {
	defer close(a.done)
	a.mu.Lock()
	defer a.mu.Unlock()
	for {
		for a.out == a.in && !a.closed {
			a.nonEmpty.Wait()
		}
		if a.out == a.in {
			return // closed and drained
		}
		s := &a.slots[a.out%uint64(len(a.slots))]
		// The slot stays the goroutine's until out moves past it, so
		// the sink reads it without the lock.
		a.mu.Unlock()
		err := a.sink.Handle(s.e)
		a.mu.Lock()
		if err != nil && a.err == nil {
			a.err = err
		}
		s.e = Event{} // let go of what the event points to
		if cap(s.data) > asyncKeep {
			s.data = nil
		}
		a.out++
		a.changed.Broadcast()
	}
}

// Flush waits until every event queued before it was called has been
// handed to the sink, and returns the first error the sink returned.
func (a *AsyncSink) Flush() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for target := a.in; a.out < target; {
		a.changed.Wait()
	}
	return a.err
}

// Close hands the events still queued to the sink, stops the goroutine and
// returns the first error the sink returned. Calling it again does nothing
// more.
func (a *AsyncSink) Close() error {
	a.mu.Lock()
	if !a.closed {
		a.closed = true
		a.nonEmpty.Signal()
		a.changed.Broadcast() // a Handle waiting for room hands its event over itself
	}
	a.mu.Unlock()
	<-a.done
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}
