//go:build linux || darwin

package sock

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/socklab/socklab/trace"
)

// TestWaitsAreInterrupted: a poll, or an epoll_wait, with no timeout on a
// listener nobody connects to returns once its context ends, woken by the
// traced shutdown of the socket it waits on, and says why.
func TestWaitsAreInterrupted(t *testing.T) {
	tests := []struct {
		name string
		wait func(ctx context.Context, p *trace.Peer, ln *Socket) error
	}{
		{"poll", func(ctx context.Context, p *trace.Peer, ln *Socket) error {
			_, err := Poll(ctx, p, PollFor{Socket: ln, Read: true})
			return err
		}},
		{"epoll", func(ctx context.Context, p *trace.Peer, ln *Socket) error {
			if !HasEpoll() {
				t.Skip("no epoll here")
			}
			ep, err := CreateEpoll(p)
			if err != nil {
				return err
			}
			defer ep.Close()
			if err := ep.Add(ln, true, false); err != nil {
				return err
			}
			_, err = ep.Wait(ctx)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec trace.Recorder
			p := trace.New(&rec).Peer("server", trace.Server)
			ln, _ := listening(t, p)
			ctx, cancel := context.WithCancelCause(context.Background())
			time.AfterFunc(20*time.Millisecond, func() { cancel(errors.New("bell")) })
			err := tt.wait(ctx, p, ln)
			if !errors.Is(err, ErrInterrupted) {
				t.Fatalf("got %v, want an interrupted error", err)
			}
			end, ok := trace.Find(rec.Events(), trace.EndOf("server", trace.OpPoll))
			if !ok || end.Interrupt != "bell" {
				t.Errorf("the wait's End: found %v, Interrupt %q; want it, \"bell\"", ok, end.Interrupt)
			}
			if _, ok := trace.Find(rec.Events(), trace.EndOf("server", trace.OpShutdown)); !ok {
				t.Error("no traced shutdown woke the wait")
			}
		})
	}
}

// TestNonblockingConnectLearnsFromSOError: a non-blocking connect fails
// with EINPROGRESS; once poll says the socket is writable, SO_ERROR is 0,
// and that getsockopt is the client's step 7.
func TestNonblockingConnectLearnsFromSOError(t *testing.T) {
	var rec trace.Recorder
	tr := trace.New(&rec)
	_, addr := listening(t, tr.Peer("server", trace.Server))
	p := tr.Peer("client", trace.Client)
	s, err := Create(p, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.SetNonblock(); err != nil {
		t.Fatal(err)
	}
	if err := s.Connect(context.Background(), addr); !InProgress(err) {
		t.Fatalf("connect: got %v, want EINPROGRESS", err)
	}
	ready, err := Poll(context.Background(), p, PollFor{Socket: s, Write: true})
	if err != nil || len(ready) != 1 || !ready[0].Write {
		t.Fatalf("poll: got %+v, %v; want the socket writable", ready, err)
	}
	if pending, err := s.SocketError(); err != nil || pending != nil {
		t.Fatalf("SocketError: got %v, %v; want nil, nil", pending, err)
	}
	e, _ := trace.Find(rec.Events(), trace.EndOf("client", trace.OpGetsockopt))
	if !e.Connected || e.Step != 7 || e.Remote != addr.String() {
		t.Errorf("getsockopt's End: connected %v, step %d, remote %q; want true, 7, %s", e.Connected, e.Step, e.Remote, addr)
	}
}
