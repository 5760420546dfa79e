package lessons

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/sock"
)

var concurrent = Lesson{
	Name:    "concurrent",
	Summary: summary("concurrent"),
	Run:     runConcurrent,
	Uses:    []string{"clients"},
}

// A server that serves one client at a time keeps every other client
// waiting. This one hands each accepted connection to a goroutine of its
// own (server-1, server-2, …) and goes straight back to accept. Each
// connection's calls stay in order; between connections, anything goes.
func runConcurrent(ctx context.Context, tr *trace.Tracer, opts Options) error {
	n := opts.clients()
	server := tr.Peer("server", trace.Server)
	announce := newAnnouncement()
	peers := []func(context.Context) error{func(ctx context.Context) error {
		defer server.Done()
		// A queue for every client: they all connect at once, and a
		// handshake that finds the queue full is dropped, its SYN sent
		// again a second later (the backlog lesson shows it). The kernel
		// caps the queue at net.core.somaxconn.
		ln, err := listenAnnounced(server, announce, max(n, backlog))
		if err != nil {
			return err
		}
		defer ln.Close()

		var wg sync.WaitGroup
		var mu sync.Mutex
		var errs []error
		for i := range n {
			conn, err := ln.Accept(ctx)
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				break
			}
			handler := tr.Peer(fmt.Sprintf("server-%d", i+1), trace.Server)
			conn.SetPeer(handler)
			wg.Go(func() {
				defer handler.Done()
				if err := echoOnce(ctx, conn); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		return ln.Close()
	}}
	peers = append(peers, clientPeers(tr, n, announce, func(ctx context.Context, i int, s *sock.Socket) error {
		hello := "hello from " + clientName(i)
		return sayAndHear(ctx, s, hello, len(hello)) // the handler echoes
	})...)
	return runPeers(ctx, tr, peers...)
}
