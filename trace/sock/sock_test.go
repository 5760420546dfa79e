//go:build linux || darwin

package sock

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
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
		call func(t *testing.T, ctx context.Context, ln *Socket, addr netip.AddrPort) error
	}{
		{"accept", func(_ *testing.T, ctx context.Context, ln *Socket, _ netip.AddrPort) error {
			_, err := ln.Accept(ctx)
			return err
		}},
		{"read", func(_ *testing.T, ctx context.Context, _ *Socket, addr netip.AddrPort) error {
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
		{"connect", func(t *testing.T, ctx context.Context, _ *Socket, addr netip.AddrPort) error {
			// With the backlog full, the server's kernel drops the SYN and
			// connect waits (the client retransmits) until interrupted.
			fill := fillBacklog(t, addr)
			defer fill()
			c, err := Create(nil, false)
			if err != nil {
				return err
			}
			defer c.Close()
			return c.Connect(ctx, addr)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec trace.Recorder
			ln, addr := listening(t, trace.New(&rec).Peer("server", trace.Server))
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			err := tt.call(t, ctx, ln, addr)
			require.ErrorIs(t, err, ErrInterrupted)
			require.ErrorIs(t, err, context.Canceled)
		})
	}
}

// fillBacklog connects to a listener with backlog 1 until a connect no longer
// completes at once, and returns a function that closes those sockets.
func fillBacklog(t *testing.T, addr netip.AddrPort) func() {
	t.Helper()
	var conns []*Socket
	for range 8 {
		c, err := Create(nil, false)
		require.NoError(t, err)
		conns = append(conns, c)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err = c.Connect(ctx, addr)
		cancel()
		if errors.Is(err, ErrInterrupted) {
			break // this one waited: the backlog is full
		}
		require.NoError(t, err)
	}
	return func() {
		for _, c := range conns {
			c.Close()
		}
	}
}

func TestInterruptedConnectIsTraced(t *testing.T) {
	var rec trace.Recorder
	_, addr := listening(t, nil)
	defer fillBacklog(t, addr)()
	c, err := Create(trace.New(&rec).Peer("client", trace.Client), false)
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeoutCause(context.Background(), 50*time.Millisecond, errors.New("time is up"))
	defer cancel()
	err = c.Connect(ctx, addr)
	require.ErrorIs(t, err, ErrInterrupted)
	require.EqualError(t, err, "connect "+addr.String()+": interrupted: time is up")

	e, ok := trace.Find(rec.Events(), trace.EndOf("client", trace.OpConnect))
	require.True(t, ok, "connect never ended")
	require.Equal(t, "time is up", e.Interrupt)
	require.Equal(t, 5, e.Step, "a failed connect stays step 5")
	require.Equal(t, -1, e.Ret)
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
	require.NoError(t, err)
	require.NoError(t, probe.Bind(loopback0))
	addr, err := probe.LocalAddr()
	require.NoError(t, err)
	require.NoError(t, probe.Close())

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

func TestInterruptUDPAndUnix(t *testing.T) {
	// A blocked recvfrom on UDP and a blocked accept on a Unix socket wake
	// on the interrupt too.
	t.Run("udp recvfrom", func(t *testing.T) {
		s, err := CreateUDP(nil, false)
		require.NoError(t, err)
		defer s.Close()
		require.NoError(t, s.Bind(loopback0))
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(30*time.Millisecond, cancel)
		_, _, err = s.RecvFrom(ctx, make([]byte, 16))
		require.ErrorIs(t, err, ErrInterrupted)
	})
	t.Run("unix accept", func(t *testing.T) {
		ln, err := CreateUnix(nil)
		require.NoError(t, err)
		defer ln.Close()
		require.NoError(t, ln.BindPath(t.TempDir()+"/s"))
		require.NoError(t, ln.Listen(1))
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(30*time.Millisecond, cancel)
		_, err = ln.Accept(ctx)
		require.ErrorIs(t, err, ErrInterrupted)
	})
}
