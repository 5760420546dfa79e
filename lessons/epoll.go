package lessons

import (
	"context"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/sock"
)

var epollLesson = Lesson{
	Name:    "epoll",
	Summary: summary("epoll"),
	Run:     runEpoll,
	Uses:    []string{"clients"},
}

// One thread can serve many clients if it never waits in accept or read:
// its sockets are non-blocking, and it waits in one place, epoll_wait,
// for whichever of them is ready. The kernel keeps the set (epoll_create1,
// epoll_ctl) and says which sockets are ready; the server accepts or reads
// only those, and each call returns at once. This is the loop inside
// asyncio, Node and Go's net package (its runtime poller), which hide it
// behind coroutines, callbacks and goroutines. Linux only: macOS and the
// BSDs have kqueue instead.
func runEpoll(ctx context.Context, tr *trace.Tracer, opts Options) error {
	if !sock.HasEpoll() {
		return sock.ErrNoEpoll // before any socket: nothing to trace
	}
	n := opts.clients()
	server := tr.Peer("server", trace.Server)
	announce := newAnnouncement()
	peers := []func(context.Context) error{func(ctx context.Context) error {
		defer server.Done()
		// A queue for every client, as in the concurrent lesson: they
		// all connect at once.
		ln, err := listenAnnounced(server, announce, max(n, backlog))
		if err != nil {
			return err
		}
		defer ln.Close()
		// The listening socket must not block: accept is called only
		// when epoll says a connection is queued.
		if err := ln.SetNonblock(); err != nil {
			return err
		}

		// An epoll instance: a descriptor for the set of sockets the
		// server waits on. First in the set: the listening socket,
		// watched for readable (a connection is queued).
		ep, err := sock.CreateEpoll(server)
		if err != nil {
			return err
		}
		defer ep.Close()
		if err := ep.Add(ln, true, false); err != nil {
			return err
		}

		var conns []*sock.Socket
		defer func() { closeAll(conns...) }()
		buf := make([]byte, ReadBuffer)
		for served := 0; served < n; {
			// The only place the server waits: until any socket of the
			// set is ready. The kernel says which.
			ready, err := waitReady(ctx, ep)
			if err != nil {
				return err
			}
			for _, r := range ready {
				if r.Socket == ln {
					// A connection is queued: accept returns at once. The
					// new socket is made non-blocking and joins the set.
					conn, err := ln.Accept(ctx)
					if err != nil {
						return err
					}
					conns = append(conns, conn)
					if err := conn.SetNonblock(); err != nil {
						return err
					}
					if err := ep.Add(conn, true, false); err != nil {
						return err
					}
					continue
				}
				// A client's socket is readable: bytes, or the end of
				// its stream. read returns at once with them.
				conn := r.Socket
				got, err := conn.Read(ctx, buf)
				if err != nil {
					return err
				}
				if got > 0 {
					// Echo them. A few bytes fit in the socket's send
					// buffer, so this write does not wait either.
					if err := writeAll(ctx, conn, buf[:got]); err != nil {
						return err
					}
					continue
				}
				// 0: the client closed. Out of the set, and closed.
				if err := ep.Remove(conn); err != nil {
					return err
				}
				if err := conn.Close(); err != nil {
					return err
				}
				served++
			}
		}
		if err := ep.Close(); err != nil {
			return err
		}
		return ln.Close()
	}}
	// Each client is an ordinary blocking client, as in concurrent.
	peers = append(peers, clientPeers(tr, n, announce, func(ctx context.Context, i int, s *sock.Socket) error {
		hello := "hello from " + clientName(i)
		return sayAndHear(ctx, s, hello, len(hello)) // the server echoes
	})...)
	return runPeers(ctx, tr, peers...)
}
