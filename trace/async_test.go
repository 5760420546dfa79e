package trace

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"
)

// collector is a sink that keeps what it is given, checking that it is
// never called concurrently (the queue has one goroutine).
type collector struct {
	mu     sync.Mutex
	busy   bool
	events []Event
	data   []string
	block  chan struct{} // if not nil, Handle waits for a value on it
	fail   map[uint64]error
}

func (c *collector) Handle(e Event) error {
	c.mu.Lock()
	if c.busy {
		panic("sink called concurrently")
	}
	c.busy = true
	c.mu.Unlock()
	if c.block != nil {
		<-c.block
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.busy = false
	c.events = append(c.events, e)
	c.data = append(c.data, string(e.Data))
	return c.fail[e.Seq]
}

func TestAsyncKeepsEveryEventInOrder(t *testing.T) {
	var c collector
	a := Async(&c, 4)
	buf := make([]byte, 8)
	const n = 1000
	for i := range n {
		copy(buf, fmt.Sprintf("%08d", i))
		if err := a.Handle(Event{Seq: uint64(i + 1), Data: buf}); err != nil {
			t.Fatal(err)
		}
		copy(buf, "XXXXXXXX") // the caller reuses its buffer at once
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if len(c.events) != n {
		t.Fatalf("got %d events, want %d", len(c.events), n)
	}
	for i, e := range c.events {
		if e.Seq != uint64(i+1) || c.data[i] != fmt.Sprintf("%08d", i) {
			t.Fatalf("event %d: seq %d, data %q; want %d, %08d", i, e.Seq, c.data[i], i+1, i)
		}
	}
}

func TestAsyncDataNilOrEmpty(t *testing.T) {
	var c collector
	a := Async(&c, 2)
	a.Handle(Event{Seq: 1})
	a.Handle(Event{Seq: 2, Data: []byte{}})
	a.Close()
	if c.events[0].Data != nil || c.events[1].Data == nil {
		t.Errorf("got data nil %t and %t; want true and false", c.events[0].Data == nil, c.events[1].Data == nil)
	}
}

// A slow sink holds no call until the queue is full; then Handle waits
// for room (every event is kept).
func TestAsyncWaitsOnlyWhenFull(t *testing.T) {
	c := collector{block: make(chan struct{})}
	a := Async(&c, 3)
	for i := range 3 { // the queue's size: none of these waits
		a.Handle(Event{Seq: uint64(i + 1)})
	}
	returned := make(chan struct{})
	go func() {
		a.Handle(Event{Seq: 4})
		close(returned)
	}()
	select {
	case <-returned:
		t.Fatal("Handle returned with the queue full")
	case <-time.After(20 * time.Millisecond):
	}
	c.block <- struct{}{} // the sink takes one: room for the fourth
	<-returned
	close(c.block)
	a.Close()
	if len(c.events) != 4 {
		t.Errorf("got %d events, want 4", len(c.events))
	}
}

func TestAsyncErrors(t *testing.T) {
	errBroken := errors.New("broken pipe")
	c := collector{fail: map[uint64]error{2: errBroken, 3: errors.New("later")}}
	a := Async(&c, 8)
	for i := range 3 {
		a.Handle(Event{Seq: uint64(i + 1)})
	}
	if err := a.Flush(); err != errBroken {
		t.Errorf("Flush: got %v, want %v", err, errBroken)
	}
	if err := a.Handle(Event{Seq: 4}); err != errBroken {
		t.Errorf("Handle after the failure: got %v, want %v", err, errBroken)
	}
	if err := a.Close(); err != errBroken {
		t.Errorf("Close: got %v, want %v", err, errBroken)
	}
	if err := a.Close(); err != errBroken {
		t.Errorf("Close again: got %v, want %v", err, errBroken)
	}
}

func TestAsyncFlush(t *testing.T) {
	var c collector
	a := Async(&c, 16)
	defer a.Close()
	for i := range 10 {
		a.Handle(Event{Seq: uint64(i + 1)})
		a.Flush()
		c.mu.Lock()
		got := len(c.events)
		c.mu.Unlock()
		if got != i+1 {
			t.Fatalf("after Flush, the sink has %d events, want %d", got, i+1)
		}
	}
}

func TestAsyncAfterClose(t *testing.T) {
	var c collector
	a := Async(&c, 2)
	a.Handle(Event{Seq: 1})
	a.Close()
	a.Handle(Event{Seq: 2, Data: []byte("late")})
	if len(c.events) != 2 || c.data[1] != "late" {
		t.Errorf("got %d events (%q), want the late one handled too", len(c.events), c.data)
	}
}

// Several peers at once: each one's events keep their order, none is lost.
func TestAsyncConcurrent(t *testing.T) {
	var c collector
	a := Async(&c, 8)
	const peers, each = 4, 500
	var wg sync.WaitGroup
	for p := range peers {
		wg.Go(func() {
			for i := range each {
				a.Handle(Event{Peer: strconv.Itoa(p), Seq: uint64(i)})
			}
		})
	}
	wg.Wait()
	a.Close()
	next := map[string]uint64{}
	for _, e := range c.events {
		if e.Seq != next[e.Peer] {
			t.Fatalf("peer %s: event %d after %d", e.Peer, e.Seq, next[e.Peer])
		}
		next[e.Peer]++
	}
	if len(c.events) != peers*each {
		t.Errorf("got %d events, want %d", len(c.events), peers*each)
	}
}
