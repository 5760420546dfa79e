package lessons

import (
	"context"
	"errors"
	"sync"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/sock"
)

var nonblocking = Lesson{
	Name:    "nonblocking",
	Summary: summary("nonblocking"),
	Run:     runNonblocking,
	Uses:    []string{"message", "reply"},
}

// A non-blocking socket (O_NONBLOCK) never waits: a call that would wait
// fails at once, accept and read with EAGAIN, connect with EINPROGRESS
// after sending SYN. Nothing tells the program when to try again: it must
// ask. It waits in poll for the sockets it cares about, and after a
// non-blocking connect it asks SO_ERROR how the handshake ended: that
// answer, not connect, is step 7. Each peer here waits only in poll.
func runNonblocking(ctx context.Context, tr *trace.Tracer, opts Options) error {
	if err := opts.check(); err != nil {
		return err
	}
	server, client := tr.Peer("server", trace.Server), tr.Peer("client", trace.Client)
	announce := newAnnouncement()
	asked := make(chan struct{}) // the server's first read found nothing
	tell := sync.OnceFunc(func() { close(asked) })
	return runPeers(ctx, tr,
		func(ctx context.Context) error {
			defer server.Done()
			defer tell() // the client stops waiting if the server fails early
			ln, addr, err := listenLocal(server, backlog)
			if err != nil {
				announce.failed()
				return err
			}
			defer ln.Close()

			// fcntl(F_SETFL, O_NONBLOCK): from now on no call on the
			// listening socket waits.
			if err := ln.SetNonblock(); err != nil {
				announce.failed()
				return err
			}
			// No client knows the address yet, so the queue is empty:
			// accept fails at once with EAGAIN instead of waiting.
			if _, err := ln.Accept(ctx); !sock.WouldBlock(err) {
				announce.failed()
				return unexpected("accept", err)
			}
			announce.listening(addr)

			// The program waits where it chooses: in poll, until the
			// listening socket is readable, which means a connection is
			// queued. Then accept returns at once.
			if err := pollOne(ctx, ln, true, false); err != nil {
				return err
			}
			conn, err := ln.Accept(ctx)
			if err != nil {
				return err
			}
			defer conn.Close()
			// On Linux the new socket does not inherit O_NONBLOCK: ask
			// for it again.
			if err := conn.SetNonblock(); err != nil {
				return err
			}

			// The client has sent nothing yet: read fails with EAGAIN.
			buf := make([]byte, ReadBuffer)
			if _, err := conn.Read(ctx, buf); !sock.WouldBlock(err) {
				return unexpected("read", err)
			}
			tell() // not a socket call: now the client may write

			// Wait until bytes are there, then read them.
			if err := pollOne(ctx, conn, true, false); err != nil {
				return err
			}
			if _, err := conn.Read(ctx, buf); err != nil {
				return err
			}
			if err := writeAll(ctx, conn, []byte(opts.reply())); err != nil {
				return err
			}
			// Readable once more: the client's end of the stream (read 0).
			if err := pollOne(ctx, conn, true, false); err != nil {
				return err
			}
			if n, err := conn.Read(ctx, buf); err != nil || n != 0 {
				return unexpected("read", err)
			}
			if err := conn.Close(); err != nil {
				return err
			}
			return ln.Close()
		},
		func(ctx context.Context) error {
			defer client.Done()
			addr, err := announce.wait(ctx)
			if err != nil {
				return err
			}
			s, err := sock.Create(client, false)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := s.SetNonblock(); err != nil {
				return err
			}

			// connect sends SYN and returns at once: EINPROGRESS is not a
			// failure, the handshake goes on in the kernel.
			if err := s.Connect(ctx, addr); !sock.InProgress(err) {
				return unexpected("connect", err)
			}
			// The socket becomes writable when the handshake is over,
			// well or badly; only SO_ERROR says which. 0: connected.
			if err := pollOne(ctx, s, false, true); err != nil {
				return err
			}
			if pending, err := s.SocketError(); err != nil || pending != nil {
				return errors.Join(err, pending)
			}
			if _, err := s.LocalAddr(); err != nil {
				return err
			}

			// Not a socket call: the client writes once the server has
			// found nothing to read, so that its EAGAIN is seen.
			select {
			case <-asked:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			if err := writeAll(ctx, s, []byte(opts.message())); err != nil {
				return err
			}
			// Wait for the reply, read it, close.
			if err := pollOne(ctx, s, true, false); err != nil {
				return err
			}
			if _, err := s.Read(ctx, make([]byte, ReadBuffer)); err != nil {
				return err
			}
			return s.Close()
		},
	)
}
