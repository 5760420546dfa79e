package lessons

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/sock"
)

var ipv6 = Lesson{
	Name:    "ipv6",
	Summary: "the basic exchange over IPv6, on ::1: the same 11 steps with AF_INET6",
	Run:     runIPv6,
	Uses:    []string{"message", "reply"},
	Script:  elevenSteps,
	Expect:  elevenStepsExpected,
}

// IPv6 changes the address family and the addresses, nothing else: the
// same server and client as basic, on [::1].
func runIPv6(ctx context.Context, tr *trace.Tracer, opts Options) error {
	return serverAndClient(ctx, tr, opts, loopback6)
}

// announcement hands the server's address to any number of clients, once
// the server listens (or tells them it never will).
type announcement struct {
	addr  netip.AddrPort
	ready chan struct{}
}

func newAnnouncement() *announcement { return &announcement{ready: make(chan struct{})} }

// listening announces addr; failed announces that there will be none.
func (a *announcement) listening(addr netip.AddrPort) { a.addr = addr; close(a.ready) }
func (a *announcement) failed()                       { close(a.ready) }

// wait returns the server's address once it listens.
func (a *announcement) wait(ctx context.Context) (netip.AddrPort, error) {
	select {
	case <-a.ready:
		if !a.addr.IsValid() {
			return netip.AddrPort{}, errPeerFailed
		}
		return a.addr, nil
	case <-ctx.Done():
		return netip.AddrPort{}, context.Cause(ctx)
	}
}

// clientName names the ith of several clients: client-1, client-2, …
func clientName(i int) string { return fmt.Sprintf("client-%d", i+1) }

// listenAnnounced does the server's steps 1 to 3 (listenLocal) and tells
// the clients waiting on announce where to connect, or that the server
// failed. The caller closes the socket.
func listenAnnounced(server *trace.Peer, announce *announcement) (*sock.Socket, error) {
	ln, addr, err := listenLocal(server)
	if err != nil {
		announce.failed()
		return nil, err
	}
	announce.listening(addr)
	return ln, nil
}

// clientPeer is one client: it waits for the server's address, connects,
// and plays part with its socket, which is closed whatever happens.
func clientPeer(client *trace.Peer, announce *announcement, part func(ctx context.Context, s *sock.Socket) error) func(context.Context) error {
	return func(ctx context.Context) error {
		defer client.Done()
		addr, err := announce.wait(ctx)
		if err != nil {
			return err
		}
		s, err := dial(ctx, client, addr)
		if err != nil {
			return err
		}
		defer s.Close()
		return part(ctx, s)
	}
}

// clientPeers returns n clients, client-1 to client-n (see clientPeer).
func clientPeers(tr *trace.Tracer, n int, announce *announcement, part func(ctx context.Context, i int, s *sock.Socket) error) []func(context.Context) error {
	var peers []func(context.Context) error
	for i := range n {
		peers = append(peers, clientPeer(tr.Peer(clientName(i), trace.Client), announce, func(ctx context.Context, s *sock.Socket) error {
			return part(ctx, i, s)
		}))
	}
	return peers
}

// echoOnce is a server's whole exchange on one connection: write back
// whatever it reads, until end of file, then close.
func echoOnce(ctx context.Context, conn *sock.Socket) error {
	defer conn.Close()
	buf := make([]byte, ReadBuffer)
	for {
		n, err := conn.Read(ctx, buf)
		if err != nil {
			return err
		}
		if n == 0 {
			return conn.Close()
		}
		if err := writeAll(ctx, conn, buf[:n]); err != nil {
			return err
		}
	}
}

// sayAndHear is a client's whole exchange: write msg, read until the
// answer's size has come (a stream may bring it in pieces), close.
func sayAndHear(ctx context.Context, s *sock.Socket, msg string, answer int) error {
	if err := writeAll(ctx, s, []byte(msg)); err != nil {
		return err
	}
	if _, err := readAtLeast(ctx, s, make([]byte, max(ReadBuffer, answer)), answer); err != nil {
		return err
	}
	return s.Close()
}

var backlog_ = Lesson{
	Name:    "backlog",
	Summary: "clients finish their handshake before the server calls accept: connect returns, and the backlog queues them",
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
		ln, err := listenAnnounced(server, announce)
		if err != nil {
			return err
		}
		defer ln.Close()
		// Not a socket call: the server waits until every client's
		// connect has returned, to show that none needed an accept.
		for range n {
			select {
			case <-connected:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
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

var concurrent = Lesson{
	Name:    "concurrent",
	Summary: "one listening socket, one goroutine per accepted connection: each connection keeps its order while they interleave",
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
		ln, err := listenAnnounced(server, announce)
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
