package trace

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestWatchStalls(t *testing.T) {
	const after = 50 * time.Millisecond
	tests := []struct {
		name  string
		setup func(tr *Tracer) // the peers, and what each is in
		stall string           // the StallError's text, or "" for none
	}{
		{"both reading", func(tr *Tracer) {
			tr.Peer("server", Server).Begin(&Event{Op: OpRead})
			tr.Peer("client", Client).Begin(&Event{Op: OpRead})
		}, "both peers are reading: each waits for the other to write"},
		{"accept and read", func(tr *Tracer) {
			tr.Peer("server", Server).Begin(&Event{Op: OpAccept})
			tr.Peer("client", Client).Begin(&Event{Op: OpRead})
		}, "no peer can go on: the server waits in accept, the client waits in read"},
		{"one peer busy", func(tr *Tracer) {
			tr.Peer("server", Server).Begin(&Event{Op: OpRead})
			tr.Peer("client", Client)
		}, ""},
		{"the other peer done", func(tr *Tracer) {
			tr.Peer("server", Server).Begin(&Event{Op: OpRead})
			tr.Peer("client", Client).Done()
		}, "no peer can go on: the server waits in read"},
		{"a read that ends by itself", func(tr *Tracer) {
			tr.Peer("server", Server).Begin(&Event{Op: OpRead})
			c := tr.Peer("client", Client)
			c.EndsWithin(after / 2)
			c.Begin(&Event{Op: OpRead})
		}, ""},
		{"a read whose own bound is long", func(tr *Tracer) {
			tr.Peer("server", Server).Begin(&Event{Op: OpRead})
			c := tr.Peer("client", Client)
			c.EndsWithin(time.Hour)
			c.Begin(&Event{Op: OpRead})
		}, "both peers are reading: each waits for the other to write"},
		{"a non-blocking try never waits", func(tr *Tracer) {
			tr.Peer("server", Server).Begin(&Event{Op: OpRead, Nonblock: true})
			tr.Peer("client", Client).Begin(&Event{Op: OpRead})
		}, ""},
		{"a read that ended", func(tr *Tracer) {
			s := tr.Peer("server", Server)
			e := Event{Op: OpRead}
			s.End(&e, s.Begin(&e))
			tr.Peer("client", Client).Begin(&Event{Op: OpRead})
		}, ""},
		{"no peers", func(tr *Tracer) {}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := New(nil).SetStallAfter(after)
			tt.setup(tr)
			ctx, stop := tr.WatchStalls(context.Background())
			defer stop()
			select {
			case <-ctx.Done():
			case <-time.After(after + 10*stallPoll):
			}
			var stall *StallError
			errors.As(context.Cause(ctx), &stall)
			switch {
			case tt.stall == "" && stall != nil:
				t.Errorf("stalled (%v), want no stall", stall)
			case tt.stall != "" && stall == nil:
				t.Errorf("no stall, want %q", tt.stall)
			case stall != nil && stall.Error() != tt.stall:
				t.Errorf("got %q, want %q", stall.Error(), tt.stall)
			}
		})
	}
}

func TestWatchStallsIgnoresHeldTime(t *testing.T) {
	tr := New(nil).SetStallAfter(50 * time.Millisecond)
	tr.Peer("server", Server).Begin(&Event{Op: OpRead})
	tr.Peer("client", Client).Begin(&Event{Op: OpRead})
	release := tr.Stopwatch().Hold() // a person thinks
	ctx, stop := tr.WatchStalls(context.Background())
	defer stop()
	time.Sleep(300 * time.Millisecond)
	if ctx.Err() != nil {
		t.Fatalf("stalled while held: %v", context.Cause(ctx))
	}
	release()
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("no stall once the hold ended")
	}
}
