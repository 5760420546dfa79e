//go:build linux || darwin

package sock

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/tracetest"
)

// TestInterruptLeavesNothing is Ctrl-C in each blocking call, traced: once
// the call returned and its sockets are closed, no descriptor and no
// goroutine it made is left (the shutdown that woke it, the context's
// AfterFunc, the retries of a shutdown that came too early).
func TestInterruptLeavesNothing(t *testing.T) {
	tests := []struct {
		name string
		// block makes the sockets, calls ctx() for the context just
		// before the call (so that setting up takes none of its time),
		// blocks in the call until the context is done, and closes its
		// sockets; it returns the call's error.
		block func(t *testing.T, ctx func() context.Context, p *trace.Peer) error
	}{
		{"accept", func(t *testing.T, ctx func() context.Context, p *trace.Peer) error {
			ln, _ := listeningNoCleanup(t, p)
			defer ln.Close()
			_, err := ln.Accept(ctx())
			return err
		}},
		{"connect", func(t *testing.T, ctx func() context.Context, p *trace.Peer) error {
			ln, addr := listeningNoCleanup(t, nil)
			defer ln.Close()
			defer fillBacklog(t, addr)()
			c, err := Create(p, false)
			if err != nil {
				return err
			}
			defer c.Close()
			return c.Connect(ctx(), addr)
		}},
		{"read", func(t *testing.T, ctx func() context.Context, p *trace.Peer) error {
			ln, addr := listeningNoCleanup(t, nil)
			defer ln.Close()
			c, err := Create(p, false)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := c.Connect(context.Background(), addr); err != nil {
				return err
			}
			_, err = c.Read(ctx(), make([]byte, 16))
			return err
		}},
		{"recvfrom", func(t *testing.T, ctx func() context.Context, p *trace.Peer) error {
			s, err := CreateUDP(p, false)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := s.Bind(loopback0); err != nil {
				return err
			}
			_, _, err = s.RecvFrom(ctx(), make([]byte, 16))
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Goroutines from earlier tests, still ending, are not this
			// call's.
			ignore := goleak.IgnoreCurrent()
			fds := openFDs(t)
			var rec trace.Recorder
			p := trace.New(&rec).SetKernelState(true).Peer("peer", trace.Client)
			ctx := func() context.Context {
				// As the command does on SIGINT: cancel the context with a
				// cause, from another goroutine, while the call is blocked.
				ctx, cancel := context.WithCancelCause(context.Background())
				time.AfterFunc(50*time.Millisecond, func() { cancel(errors.New("SIGINT")) })
				return ctx
			}
			err := tt.block(t, ctx, p)
			if !errors.Is(err, ErrInterrupted) {
				t.Fatalf("got %v, want an interrupted call", err)
			}
			if leaked := fds.Leaked(openFDs(t)); leaked != nil {
				t.Errorf("descriptors left open: %v", leaked)
			}
			goleak.VerifyNone(t, ignore)
			// The interrupt is in the trace: a shutdown, then the End.
			if _, ok := trace.Find(rec.Events(), trace.EndOf("peer", trace.OpShutdown)); !ok {
				t.Error("no traced shutdown woke the call")
			}
		})
	}
}

// listeningNoCleanup is listening for a socket the test closes itself,
// before counting descriptors.
func listeningNoCleanup(t *testing.T, p *trace.Peer) (*Socket, netip.AddrPort) {
	t.Helper()
	ln, err := Create(p, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := ln.Bind(loopback0); err != nil {
		ln.Close()
		t.Fatal(err)
	}
	addr, err := ln.LocalAddr()
	if err == nil {
		err = ln.Listen(1)
	}
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	return ln, addr
}

// openFDs is a snapshot of the process's open descriptors.
func openFDs(t *testing.T) tracetest.Descriptors {
	t.Helper()
	fds, err := tracetest.OpenDescriptors()
	if err != nil {
		t.Skipf("cannot list descriptors: %v", err)
	}
	return fds
}
