package lessons

import (
	"context"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/sock"
)

var backlogLesson = Lesson{
	Name:    "backlog",
	Summary: summary("backlog"),
	Run:     runBacklog,
	Uses:    []string{"clients"},
}

// The kernel completes handshakes for a listening socket by itself and
// queues the connections, up to the backlog. Here the server calls accept
// only once every client's connect has returned: the connections wait in
// the queue, and accept then takes them, one by one.
func runBacklog(ctx context.Context, tr *trace.Tracer, opts Options) error {
	n := opts.clients()
	if n > backlog {
		// More would not fit the queue: their SYNs would go unanswered
		// while the server waits for them to connect.
		return &TooManyClientsError{Max: backlog}
	}
	server := tr.Peer("server", trace.Server)
	announce := newAnnouncement()
	connected := make(chan struct{}, n) // one per client whose connect returned
	peers := []func(context.Context) error{func(ctx context.Context) error {
		defer server.Done()
		ln, err := listenAnnounced(server, announce, backlog)
		if err != nil {
			return err
		}
		defer ln.Close()
		// Not a socket call: the server waits until every client's
		// connect has returned, to show that none needed an accept. The
		// stall watch knows: with a queue too small, a connect waits on
		// the kernel's SYN retries, and the run must say so in a second.
		awaited := server.Awaits(trace.OpConnect)
		for range n {
			select {
			case <-connected:
			case <-ctx.Done():
				awaited()
				return context.Cause(ctx)
			}
		}
		awaited()
		for range n {
			conn, err := ln.Accept(ctx) // returns at once: it was queued
			if err != nil {
				return err
			}
			if err := echoOnce(ctx, conn); err != nil {
				return err
			}
		}
		return ln.Close()
	}}
	peers = append(peers, clientPeers(tr, n, announce, func(ctx context.Context, i int, s *sock.Socket) error {
		connected <- struct{}{}                                      // connect returned; no accept has happened
		return sayAndHear(ctx, s, clientName(i), len(clientName(i))) // the server echoes
	})...)
	return runPeers(ctx, tr, peers...)
}
