package lessons

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/sock"
)

// announcement hands the server's address to any number of clients, once
// the server listens (or tells them it never will).
type announcement struct {
	addr  netip.AddrPort
	ready chan struct{}
}

func newAnnouncement() *announcement { return &announcement{ready: make(chan struct{})} }

// listening announces addr; failed announces that there will be none.
func (a *announcement) listening(addr netip.AddrPort) { a.addr = addr; close(a.ready) }

func (a *announcement) failed() { close(a.ready) }

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
func listenAnnounced(server *trace.Peer, announce *announcement, queue int) (*sock.Socket, error) {
	ln, addr, err := listenLocal(server, queue)
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
