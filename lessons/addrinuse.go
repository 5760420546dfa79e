package lessons

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"time"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/sock"
)

var addrinuse = Lesson{
	Name:    "addrinuse",
	Summary: summary("addrinuse"),
	Run:     runAddrinuse,
}

// Only one socket may bind an address and port. bind fails with
// EADDRINUSE while a socket listens there, and also while a connection on
// that port waits in TIME_WAIT, which is what a server restarted right
// after it closed connections runs into. SO_REUSEADDR lets the new socket
// bind past the TIME_WAIT (never past a listener), when both have it: the
// old one when its connection closed (here set just after its bind), the
// new one before its bind.
func runAddrinuse(ctx context.Context, tr *trace.Tracer, _ Options) error {
	server, client := tr.Peer("server", trace.Server), tr.Peer("client", trace.Client)
	second := tr.Peer("server-2", trace.Server)

	// The first server binds a port the kernel chooses, then sets
	// SO_REUSEADDR, as servers do; its connections inherit it, and that
	// matters in step 4. (Set before bind, it would let the kernel choose
	// a port that old connections of earlier runs still hold in
	// TIME_WAIT, and blur the lesson.)
	ln, err := sock.Create(server, false)
	if err != nil {
		return err
	}
	defer ln.Close()
	if err := ln.Bind(loopback4); err != nil {
		return err
	}
	if err := ln.SetReuseAddr(true); err != nil {
		return err
	}
	addr, err := ln.LocalAddr()
	if err != nil {
		return err
	}
	if err := ln.Listen(backlog); err != nil {
		return err
	}

	// 1. While a socket listens on the port, nobody else can bind it, even
	// with SO_REUSEADDR (it is not set here).
	err = bindMustFail(second, addr)
	second.Done() // its part is over: the stall watch of step 2 counts only the peers playing it
	if err != nil {
		return err
	}

	// 2. One connection, which the server closes first: its end of the
	// connection, on this port, now waits in TIME_WAIT for a minute.
	var serverEnd, clientEnd string
	err = runPeers(ctx, tr,
		func(ctx context.Context) error {
			conn, err := ln.Accept(ctx)
			if err != nil {
				return err
			}
			defer conn.Close()
			serverEnd, clientEnd = conn.Local(), conn.Remote()
			return conn.Close()
		},
		func(ctx context.Context) error {
			c, err := dial(ctx, client, addr)
			if err != nil {
				return err
			}
			defer c.Close()
			if _, err := readUntilEOF(ctx, c, make([]byte, ReadBuffer)); err != nil {
				return err
			}
			return c.Close()
		},
	)
	if err != nil {
		return err
	}
	if err := ln.Close(); err != nil {
		return err
	}

	// Not a socket call: wait until the kernel shows the server's end in
	// TIME_WAIT. Right after the client's close, the kernel may still be
	// moving it there, and for some microseconds the port can look free
	// (seen here once in several hundred runs).
	inTimeWait := sock.AwaitTableState(ctx, serverEnd, clientEnd, false, "TIME_WAIT", time.Second)

	// 3. Nobody listens any more, but the TIME_WAIT still holds the port:
	// bind fails, which is what restarting a server right after it
	// closed connections runs into.
	third := tr.Peer("server-3", trace.Server)
	if err := bindMustFail(third, addr); err != nil {
		if !inTimeWait && sock.TableReadable(false) && !errors.Is(err, sock.ErrInterrupted) {
			// The kernel kept no TIME_WAIT for the connection: its table
			// of them was full (TCPTimeWaitOverflow in /proc/net/netstat),
			// so the port was free. Not the lesson's story; say so.
			return fmt.Errorf("%w (%v)", ErrNoTimeWait, err)
		}
		return err
	}
	// 4. SO_REUSEADDR lets a new socket bind a port that only TIME_WAIT
	// connections hold, when they had it set too (Linux asks both sides).
	// Servers set it before bind for this reason.
	return bindWithReuse(third, addr)
}

// ErrNoTimeWait is what addrinuse returns when the kernel kept no
// TIME_WAIT for the connection it closed, as Linux does when its table of
// them is full: the lesson's story cannot happen then.
var ErrNoTimeWait = said(errors.New("the kernel kept no TIME_WAIT for the closed connection (most likely its TIME_WAIT table is full: see TCPTimeWaitOverflow in /proc/net/netstat)"), "err.no_time_wait", "hint.no_time_wait")

// bindMustFail makes a socket and binds it to addr, which must fail with
// EADDRINUSE.
func bindMustFail(p *trace.Peer, addr netip.AddrPort) error {
	s, err := sock.Create(p, false)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Bind(addr); !errors.Is(err, syscall.EADDRINUSE) {
		return storyError("bind", "EADDRINUSE", err)
	}
	return s.Close()
}

// bindWithReuse makes a socket, sets SO_REUSEADDR and binds it to addr,
// which must succeed.
func bindWithReuse(p *trace.Peer, addr netip.AddrPort) error {
	s, err := sock.Create(p, false)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.SetReuseAddr(true); err != nil {
		return err
	}
	if err := s.Bind(addr); err != nil {
		return storyError("bind", "success with SO_REUSEADDR", err)
	}
	return s.Close()
}
