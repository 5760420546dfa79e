package lessons

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/sock"
)

var gonet = Lesson{
	Name:    "gonet",
	Summary: summary("gonet"),
	Run:     runGonet,
	Uses:    []string{"message", "reply"},
}

// Go's net package hides the steps: net.Listen makes the socket, sets
// SO_REUSEADDR, binds and listens in one call, and net.Dial creates and
// connects. Its descriptors are non-blocking: Accept and Read try the
// syscall, get EAGAIN, and park the goroutine on the runtime's poller
// (epoll, kqueue, IOCP) until the kernel says it is ready, so no thread
// sits blocked in the kernel.
//
// What the trace shows here is each call of the net package, not each
// syscall (strace shows those). The one step inside net.Listen and
// net.Dial that can be seen honestly is the socket's creation: the Control
// hook runs after socket() and before bind() or connect(), with the new
// descriptor. This lesson needs nothing but the net package, so it runs on
// every system Go runs on, Windows too.
func runGonet(ctx context.Context, tr *trace.Tracer, opts Options) error {
	if err := opts.check(); err != nil {
		return err
	}
	server, client := tr.Peer("server", trace.Server), tr.Peer("client", trace.Client)
	ready := make(chan string, 1)
	return runPeers(ctx, tr,
		func(ctx context.Context) error {
			defer server.Done()
			defer close(ready)
			lc := net.ListenConfig{Control: observeCreate(server)}
			var ln net.Listener
			err := netCall(server, trace.Event{Op: trace.OpListen, Syscall: "net.Listen", FD: -1, Arg: `"tcp4", "127.0.0.1:0"`}, func(e *trace.Event) error {
				var err error
				ln, err = lc.Listen(ctx, "tcp4", "127.0.0.1:0")
				if err == nil {
					e.Local, e.FD = ln.Addr().String(), fdOf(ln)
				}
				return err
			})
			if err != nil {
				return err
			}
			closeLn := closeOnce(server, ln)
			defer closeLn()
			ready <- ln.Addr().String()

			// Closing the listener is how Go wakes a goroutine parked in
			// Accept when the context ends; that close is traced too.
			stop := context.AfterFunc(ctx, func() { closeLn() })
			defer stop()
			var conn net.Conn
			if ctx.Err() != nil {
				return context.Cause(ctx) // interrupted before the call: nothing to trace
			}
			err = netCall(server, trace.Event{Op: trace.OpAccept, Syscall: "net.Listener.Accept", FD: fdOf(ln)}, func(e *trace.Event) error {
				var err error
				conn, err = ln.Accept()
				if err == nil {
					e.Ret, e.Remote = fdOf(conn), conn.RemoteAddr().String()
				}
				return err
			})
			if err != nil {
				return err
			}
			closeConn := closeOnce(server, conn)
			defer closeConn()
			stopConn := context.AfterFunc(ctx, func() { closeConn() })
			defer stopConn()

			buf := make([]byte, ReadBuffer)
			if _, err := netRead(ctx, server, conn, buf); err != nil {
				return err
			}
			if err := netWrite(ctx, server, conn, []byte(opts.reply())); err != nil {
				return err
			}
			for { // until end of file, which the net package says as io.EOF
				if _, err := netRead(ctx, server, conn, buf); errors.Is(err, io.EOF) {
					break
				} else if err != nil {
					return err
				}
			}
			if err := closeConn(); err != nil {
				return err
			}
			return closeLn()
		},
		func(ctx context.Context) error {
			defer client.Done()
			addr, ok := <-ready
			if !ok {
				return errPeerFailed
			}
			d := net.Dialer{Control: observeCreate(client)}
			var conn net.Conn
			err := netCall(client, trace.Event{Op: trace.OpConnect, Syscall: "net.Dial", FD: -1, Remote: addr}, func(e *trace.Event) error {
				var err error
				conn, err = d.DialContext(ctx, "tcp4", addr)
				if err == nil {
					e.FD, e.Local = fdOf(conn), conn.LocalAddr().String()
				}
				return err
			})
			if err != nil {
				return err
			}
			closeConn := closeOnce(client, conn)
			defer closeConn()
			stop := context.AfterFunc(ctx, func() { closeConn() })
			defer stop()
			if err := netWrite(ctx, client, conn, []byte(opts.message())); err != nil {
				return err
			}
			if _, err := netRead(ctx, client, conn, make([]byte, ReadBuffer)); err != nil {
				return err
			}
			return closeConn()
		},
	)
}

// observeCreate returns a Control hook that records the socket's creation:
// it runs inside net.Listen or net.Dial, just after socket() returned.
func observeCreate(p *trace.Peer) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, c syscall.RawConn) error {
		fd := -1
		c.Control(func(s uintptr) { fd = int(s) })
		// socket() has already returned: only its End can be recorded,
		// which is all the net package lets us see of it. Its arguments
		// are the net package's choice (non-blocking, close-on-exec, and
		// for listeners on Linux, IPPROTO_MPTCP): strace shows them; the
		// trace says only the network asked for.
		e := trace.Event{Op: trace.OpCreate, Syscall: "socket", FD: fd, Ret: fd, Arg: strconv.Quote(network)}
		p.End(&e, time.Now())
		return nil
	}
}

// netCall traces one call of the net package as a Begin and an End.
func netCall(p *trace.Peer, e trace.Event, call func(e *trace.Event) error) error {
	if err := p.Admit(&e); err != nil {
		return err
	}
	began := p.Begin(&e)
	err := call(&e)
	e.Err = err
	if err != nil {
		e.Ret = -1
		e.Errno = sock.ErrnoName(err)
	}
	p.End(&e, began)
	return err
}

// netRead and netWrite, like socklab's own calls, are not made once ctx
// is done: the net package's Read and Write take no context, and the
// connection is closed to wake them only a moment later.
func netRead(ctx context.Context, p *trace.Peer, c net.Conn, buf []byte) (int, error) {
	if ctx.Err() != nil {
		return 0, context.Cause(ctx)
	}
	var n int
	err := netCall(p, trace.Event{Op: trace.OpRead, Syscall: "net.Conn.Read", FD: fdOf(c), N: len(buf), Offered: len(buf), Arg: strconv.Itoa(len(buf))}, func(e *trace.Event) error {
		var err error
		n, err = c.Read(buf)
		e.Ret, e.N, e.Data = n, n, buf[:n]
		if errors.Is(err, io.EOF) {
			return nil // the trace says EOF as read(2) does: 0 bytes
		}
		return err
	})
	if err == nil && n == 0 {
		return 0, io.EOF
	}
	return n, err
}

func netWrite(ctx context.Context, p *trace.Peer, c net.Conn, b []byte) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return netCall(p, trace.Event{Op: trace.OpWrite, Syscall: "net.Conn.Write", FD: fdOf(c), N: len(b), Data: b, Offered: len(b), Arg: strconv.Itoa(len(b))}, func(e *trace.Event) error {
		n, err := c.Write(b) // writes it all, parking the goroutine if the buffer is full
		e.Ret, e.N = n, n
		return err
	})
}

func netClose(p *trace.Peer, c io.Closer) error {
	fd := -1
	if sc, ok := c.(syscall.Conn); ok {
		fd = fdOf(sc)
	}
	e := trace.Event{Op: trace.OpClose, Syscall: "Close", FD: fd}
	if conn, ok := c.(net.Conn); ok {
		// A connection's close sends FIN: the trace says to whom, and the
		// explanation is a connection's, not a listener's.
		e.Local, e.Remote = conn.LocalAddr().String(), conn.RemoteAddr().String()
	}
	return netCall(p, e, func(*trace.Event) error { return c.Close() })
}

// closeOnce returns a function that closes c, traced, the first time it is
// called, whoever calls it: the lesson when it is done, or the context's
// end to wake a goroutine parked on c. Later calls wait for the first and
// return nil.
func closeOnce(p *trace.Peer, c io.Closer) func() error {
	var once sync.Once
	var err error
	return func() error {
		first := false
		once.Do(func() { first, err = true, netClose(p, c) })
		if !first {
			return nil
		}
		return err
	}
}

// fdOf returns the descriptor (or Windows handle) under a net connection
// or listener, or -1.
func fdOf(v any) int {
	sc, ok := v.(syscall.Conn)
	if !ok {
		return -1
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	raw.Control(func(s uintptr) { fd = int(s) })
	return fd
}
