//go:build linux || darwin

package sock

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"github.com/socklab/socklab/trace"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var loopback0 = netip.MustParseAddrPort("127.0.0.1:0")

// listening returns a listening socket on a free loopback port.
func listening(t *testing.T, p *trace.Peer) (*Socket, netip.AddrPort) {
	t.Helper()
	ln, err := Create(p, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	if err := ln.Bind(loopback0); err != nil {
		t.Fatal(err)
	}
	addr, err := ln.LocalAddr()
	if err != nil {
		t.Fatal(err)
	}
	if err := ln.Listen(1); err != nil {
		t.Fatal(err)
	}
	return ln, addr
}

func TestInterruptBlockedCalls(t *testing.T) {
	// close() from another thread does not wake a blocked accept on Linux;
	// the context's shutdown must, for accept and read alike.
	tests := []struct {
		name string
		call func(ctx context.Context, ln *Socket, addr netip.AddrPort) error
	}{
		{"accept", func(ctx context.Context, ln *Socket, _ netip.AddrPort) error {
			_, err := ln.Accept(ctx)
			return err
		}},
		{"read", func(ctx context.Context, _ *Socket, addr netip.AddrPort) error {
			c, err := Create(nil, false)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := c.Connect(context.Background(), addr); err != nil {
				return err
			}
			_, err = c.Read(ctx, make([]byte, 16))
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec trace.Recorder
			ln, addr := listening(t, trace.New(&rec).Peer("server", trace.Server))
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			err := tt.call(ctx, ln, addr)
			if !errors.Is(err, ErrInterrupted) || !errors.Is(err, context.Canceled) {
				t.Fatalf("got %v, want an interrupted error", err)
			}
		})
	}
}

func TestInterruptIsTraced(t *testing.T) {
	var rec trace.Recorder
	ln, _ := listening(t, trace.New(&rec).Peer("server", trace.Server))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	if _, err := ln.Accept(ctx); err == nil {
		t.Fatal("accept returned no error")
	}
	events := rec.Events()
	shut, ok := trace.Find(events, trace.EndOf("server", trace.OpShutdown))
	if !ok || shut.Arg != "SHUT_RDWR" {
		t.Fatalf("no traced shutdown(SHUT_RDWR) in %v", events)
	}
	acc, _ := trace.Find(events, trace.EndOf("server", trace.OpAccept))
	if acc.Err == nil || acc.Seq < shut.Seq || acc.Step != 6 {
		t.Errorf("accept End = %+v; want a failed step 6 after the shutdown", acc)
	}
}

func TestCancelledBeforeTheCallMakesNoSyscall(t *testing.T) {
	var rec trace.Recorder
	ln, _ := listening(t, trace.New(&rec).Peer("server", trace.Server))
	before := len(rec.Events())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ln.Accept(ctx); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("got %v, want an interrupted error", err)
	}
	if got := len(rec.Events()); got != before {
		t.Errorf("got %d new events, want none: no syscall was made", got-before)
	}
}

func TestConnectRefused(t *testing.T) {
	// Find a port nobody listens on: bind one, then close it.
	probe, err := Create(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	probe.Bind(loopback0)
	addr, _ := probe.LocalAddr()
	probe.Close()

	var rec trace.Recorder
	c, err := Create(trace.New(&rec).Peer("client", trace.Client), false)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Connect(context.Background(), addr)
	if !errors.Is(err, unix.ECONNREFUSED) {
		t.Fatalf("got %v, want ECONNREFUSED", err)
	}
	e, _ := trace.Find(rec.Events(), trace.EndOf("client", trace.OpConnect))
	if e.Errno != "ECONNREFUSED" || e.Ret != -1 || e.Step != 5 {
		t.Errorf("connect End: errno %q ret %d step %d; want ECONNREFUSED -1 5", e.Errno, e.Ret, e.Step)
	}
}

func TestCloseTwice(t *testing.T) {
	var rec trace.Recorder
	s, err := Create(trace.New(&rec).Peer("client", trace.Client), false)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	n := len(rec.Events())
	if err := s.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: got %v, want ErrClosed", err)
	}
	if len(rec.Events()) != n {
		t.Error("second Close was traced, but made no syscall")
	}
}

func TestExchangeAndEOF(t *testing.T) {
	var rec trace.Recorder
	tr := trace.New(&rec)
	ln, addr := listening(t, tr.Peer("server", trace.Server))
	ctx := context.Background()

	c, err := Create(tr.Peer("client", trace.Client), false)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Connect(ctx, addr); err != nil {
		t.Fatal(err)
	}
	conn, err := ln.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := c.Write(ctx, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if err := c.Shutdown(ShutWrite); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	n, err := conn.Read(ctx, buf)
	if err != nil || string(buf[:n]) != "hi" {
		t.Fatalf("read %q, %v; want \"hi\"", buf[:n], err)
	}
	n, err = conn.Read(ctx, buf)
	if n != 0 || err != nil {
		t.Fatalf("read after SHUT_WR: %d, %v; want 0 (EOF)", n, err)
	}
	e, _ := trace.Find(rec.Events(), trace.EndOf("server", trace.OpRead).AtEOF())
	if !e.EOF() {
		t.Error("the EOF read is not traced as EOF")
	}
	acc, _ := trace.Find(rec.Events(), trace.EndOf("server", trace.OpAccept))
	if acc.Ret != conn.FD() || acc.Remote == "" {
		t.Errorf("accept End: ret %d remote %q; want the new fd %d and the client's address", acc.Ret, acc.Remote, conn.FD())
	}
}
