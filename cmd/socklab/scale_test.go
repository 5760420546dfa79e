//go:build linux || darwin

package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/socklab/socklab/lessons"
	"github.com/socklab/socklab/trace"
)

// TestScale500 runs the concurrent lesson with 500 clients: every event is
// recorded once, sequence numbers are unique and gap-free, each
// connection keeps its causal order, and every descriptor is closed.
func TestScale500(t *testing.T) {
	if testing.Short() {
		t.Skip("500 clients: skipped in -short mode")
	}
	const n = 500
	l, _ := lessons.Lookup("concurrent")
	var rec trace.Recorder
	if err := l.Run(context.Background(), trace.New(&rec), lessons.Options{Clients: n}); err != nil {
		t.Fatal(err)
	}
	events := rec.Events()
	for i, e := range events {
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d: numbers must be unique and gap-free", i, e.Seq)
		}
	}
	// Pair each handler with its client by address, as the lessons' test does.
	clientOf := map[string]string{}
	for i := range n {
		name := fmt.Sprintf("client-%d", i+1)
		if e, ok := trace.Find(events, trace.EndOf(name, trace.OpGetsockname)); ok {
			clientOf[e.Local] = name
		}
	}
	open := map[int]bool{}
	for i := range n {
		handler := fmt.Sprintf("server-%d", i+1)
		calls, err := trace.PeerCalls(events, handler)
		if err != nil || fmt.Sprint(calls) != "[read write read(EOF) close]" {
			t.Fatalf("%s: calls %v, %v", handler, calls, err)
		}
		first, _ := trace.Find(events, trace.EndOf(handler, trace.OpRead))
		client := clientOf[first.Remote]
		if client == "" {
			t.Fatalf("%s reads from %s, which no client has", handler, first.Remote)
		}
		if err := trace.CheckOrder(events,
			trace.Rule{Before: trace.BeginOf(client, trace.OpWrite), After: trace.EndOf(handler, trace.OpRead)},
			trace.Rule{Before: trace.BeginOf(handler, trace.OpWrite), After: trace.EndOf(client, trace.OpRead)},
			trace.Rule{Before: trace.BeginOf(client, trace.OpClose), After: trace.EndOf(handler, trace.OpRead).AtEOF()},
		); err != nil {
			t.Fatal(err)
		}
	}
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
}
