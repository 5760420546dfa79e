package lessons

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/sock"
)

var basic = Lesson{
	Name:    "basic",
	Summary: "the 11 steps: a server and a client exchange one message and one reply, then close",
	Run:     runBasic,
}

// backlog is how many finished handshakes the kernel queues for a listening
// socket before accept takes them; 128 is Python's default for listen().
const backlog = 128

// The basic lesson is the classic exchange. A server and a client run at the
// same time, as two programs would; the only thing they share is the
// server's address, which the client needs before it can connect.
func runBasic(ctx context.Context, tr *trace.Tracer, opts Options) error {
	if err := opts.check(); err != nil {
		return err
	}
	ready := make(chan netip.AddrPort, 1)
	return runPeers(ctx,
		func(ctx context.Context) error {
			return basicServer(ctx, tr.Peer("server", trace.Server), opts, ready)
		},
		func(ctx context.Context) error {
			// The client waits until the server listens: connecting any
			// earlier would be refused.
			select {
			case addr, ok := <-ready:
				if !ok {
					return errPeerFailed // the server never got to listen
				}
				return basicClient(ctx, tr.Peer("client", trace.Client), opts, addr)
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		},
	)
}

func basicServer(ctx context.Context, p *trace.Peer, opts Options, ready chan<- netip.AddrPort) (err error) {
	defer func() {
		if err != nil {
			close(ready)
		}
	}()

	// Step 1. Ask the kernel for a TCP socket. So far it is only a file
	// descriptor: no address, no port, no connection.
	listener, err := sock.Create(p, false)
	if err != nil {
		return err
	}
	// Whatever goes wrong below, the socket is closed (and the close traced).
	defer listener.Close()

	// Step 2. Bind it to the loopback address, so only this machine can
	// reach it. Port 0 asks the kernel to choose a free port, so two runs
	// never collide.
	if err := listener.Bind(netip.MustParseAddrPort("127.0.0.1:0")); err != nil {
		return err
	}
	// getsockname tells us which port the kernel chose.
	addr, err := listener.LocalAddr()
	if err != nil {
		return err
	}

	// Step 3. Listen. From now on the kernel itself answers clients'
	// handshakes and queues finished connections, up to backlog of them.
	if err := listener.Listen(backlog); err != nil {
		return err
	}
	ready <- addr

	// Steps 6 and 8. Accept blocks until a connection is ready, then returns
	// a NEW socket for it. The listening socket goes on listening.
	conn, err := listener.Accept(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()

	// Step 10. Read blocks until bytes arrive. TCP carries bytes, not
	// text: they are UTF-8 only if the client sent UTF-8. The trace shows
	// them as text, and anything that is not printable text escaped.
	buf := make([]byte, ReadBuffer)
	n, err := conn.Read(ctx, buf)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("the client closed the connection without sending anything")
	}

	// Step 9. Reply. Write hands the bytes to the kernel and returns; the
	// client has not read them yet.
	if err := writeAll(ctx, conn, []byte(opts.reply())); err != nil {
		return err
	}

	// Step 10 again. Read until it returns 0: end of file, the client has
	// closed its side. A server learns a client is gone only this way.
	for {
		n, err := conn.Read(ctx, buf)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
	}

	// Step 11. Close the connection's socket, then the listening one.
	if err := conn.Close(); err != nil {
		return err
	}
	return listener.Close()
}

func basicClient(ctx context.Context, p *trace.Peer, opts Options, server netip.AddrPort) error {
	// Step 4. The client needs a socket of its own.
	s, err := sock.Create(p, false)
	if err != nil {
		return err
	}
	defer s.Close()

	// Steps 5 and 7. Connect sends SYN and blocks until the handshake is
	// done. It returns as soon as the kernel has queued the connection,
	// which can be before the server calls accept.
	if err := s.Connect(ctx, server); err != nil {
		return err
	}
	// The client never called bind: connect chose an ephemeral port for
	// it, which getsockname reveals.
	if _, err := s.LocalAddr(); err != nil {
		return err
	}

	// Step 9. Send the message.
	if err := writeAll(ctx, s, []byte(opts.message())); err != nil {
		return err
	}

	// Step 10. Read the reply; it fits the buffer (see Options.check).
	buf := make([]byte, ReadBuffer)
	n, err := s.Read(ctx, buf)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("the server closed the connection without replying")
	}

	// Step 11. The client closes first, so it is the client's socket that
	// waits in TIME_WAIT, and the server that reads end of file.
	return s.Close()
}

// writeAll writes b with as many write calls as the kernel needs: write may
// take fewer bytes than it was given.
func writeAll(ctx context.Context, s *sock.Socket, b []byte) error {
	for len(b) > 0 {
		n, err := s.Write(ctx, b)
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}
