//go:build linux || darwin

package main

import (
	"cmp"
	"context"
	"fmt"
	"runtime/debug"
	"slices"
	"testing"

	"github.com/socklab/socklab/lessons"
	"github.com/socklab/socklab/trace"
)

// TestScale runs the concurrent lesson with 500 and 5,000 clients, the
// kernel's view on as the command has it: every event is recorded once,
// sequence numbers are unique and gap-free, each connection keeps its
// causal order, and every descriptor is closed.
func TestScale(t *testing.T) {
	for _, n := range []int{500, 5000} {
		t.Run(fmt.Sprintf("clients=%d", n), func(t *testing.T) {
			switch {
			case testing.Short():
				t.Skipf("%d clients: skipped in -short mode", n)
			case n > 1000 && raceEnabled:
				// The race detector allows 8,128 goroutines alive at once;
				// 5,000 clients and their handlers are 10,000.
				t.Skipf("%d clients: more goroutines than the race detector allows", n)
			}
			testScale(t, n)
		})
	}
}

func testScale(t *testing.T, n int) {
	debug.SetMaxThreads(max(10000, 2*n+1000)) // as the command does
	l, _ := lessons.Lookup("concurrent")
	var rec trace.Recorder
	if err := l.Run(context.Background(), trace.New(&rec).SetKernelState(true), lessons.Options{Clients: n}); err != nil {
		t.Fatal(err)
	}
	events := rec.Events()
	for i, e := range events {
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d: numbers must be unique and gap-free", i, e.Seq)
		}
	}
	// Each peer's events, in order: the checks below look at one
	// connection at a time, and a search of all the events for each of
	// thousands of peers would cost the square of the run.
	byPeer := map[string][]trace.Event{}
	for _, e := range events {
		byPeer[e.Peer] = append(byPeer[e.Peer], e)
	}
	// Pair each handler with its client by address, as the lessons' test
	// does. Thousands of connections to one server reuse ports: on
	// loopback the kernel gives a new connection the port of one in
	// TIME_WAIT (tcp_tw_reuse). So an address names, of the clients that
	// had it, the last to learn it before the handler read from it.
	type owner struct {
		seq  uint64 // of its getsockname
		name string
	}
	clientsAt := map[string][]owner{}
	for i := range n {
		name := fmt.Sprintf("client-%d", i+1)
		if e, ok := trace.Find(byPeer[name], trace.EndOf(name, trace.OpGetsockname)); ok {
			clientsAt[e.Local] = append(clientsAt[e.Local], owner{e.Seq, name})
		}
	}
	clientOf := func(addr string, before uint64) string {
		var found owner
		for _, o := range clientsAt[addr] {
			if o.seq < before && o.seq > found.seq {
				found = o
			}
		}
		return found.name
	}
	for i := range n {
		handler := fmt.Sprintf("server-%d", i+1)
		calls, err := trace.PeerCalls(byPeer[handler], handler)
		if err != nil || fmt.Sprint(calls) != "[read write read(EOF) close]" {
			t.Fatalf("%s: calls %v, %v", handler, calls, err)
		}
		first, _ := trace.Find(byPeer[handler], trace.EndOf(handler, trace.OpRead))
		client := clientOf(first.Remote, first.Seq)
		if client == "" {
			t.Fatalf("%s reads from %s, which no client has", handler, first.Remote)
		}
		pair := append(slices.Clone(byPeer[client]), byPeer[handler]...)
		slices.SortFunc(pair, func(a, b trace.Event) int { return cmp.Compare(a.Seq, b.Seq) })
		if err := trace.CheckOrder(pair,
			trace.Rule{Before: trace.BeginOf(client, trace.OpWrite), After: trace.EndOf(handler, trace.OpRead)},
			trace.Rule{Before: trace.BeginOf(handler, trace.OpWrite), After: trace.EndOf(client, trace.OpRead)},
			trace.Rule{Before: trace.BeginOf(client, trace.OpClose), After: trace.EndOf(handler, trace.OpRead).AtEOF()},
		); err != nil {
			t.Fatal(err)
		}
	}
	open := map[int]bool{}
	for _, e := range events {
		if e.Phase != trace.End {
			continue
		}
		switch {
		case (e.Op == trace.OpCreate || e.Op == trace.OpAccept) && e.Ret >= 0:
			open[e.Ret] = true
		case e.Op == trace.OpClose:
			delete(open, e.FD)
		}
	}
	if len(open) != 0 {
		t.Errorf("%d descriptors never closed", len(open))
	}
	// The kernel's view of each closed connection, asked by its addresses.
	closes := 0
	for _, e := range events {
		if e.Op == trace.OpClose && e.Phase == trace.End && e.Remote != "" {
			closes++
			if e.Kernel.State == "" {
				t.Fatalf("%s's close of %s–%s has no kernel's view", e.Peer, e.Local, e.Remote)
			}
		}
	}
	if closes != 2*n {
		t.Errorf("%d connection closes, want %d", closes, 2*n)
	}
}
