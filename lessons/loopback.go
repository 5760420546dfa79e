package lessons

import (
	"context"
	"net/netip"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/sock"
)

// The lessons after basic reuse its first steps through these helpers, so
// that each one shows only what it is about. basic.go spells every step out.

var (
	loopback4 = netip.MustParseAddrPort("127.0.0.1:0")
	loopback6 = netip.MustParseAddrPort("[::1]:0")
)

// backlog is how many finished handshakes the kernel queues for a listening
// socket before accept takes them; 128 is Python's default for listen().
const backlog = 128

// listenLocal does the server's steps 1 to 3 on the loopback address and a
// port the kernel chooses: create, bind, getsockname, listen, with a queue
// of queue finished handshakes (backlog, unless a lesson needs more). The
// caller closes the socket.
func listenLocal(p *trace.Peer, queue int) (*sock.Socket, netip.AddrPort, error) {
	ln, err := sock.Create(p, false)
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	addr, err := bindListen(ln, loopback4, queue)
	if err != nil {
		ln.Close()
		return nil, netip.AddrPort{}, err
	}
	return ln, addr, nil
}

// bindListen binds ln to addr, asks which port it got, and listens with a
// queue of queue.
func bindListen(ln *sock.Socket, addr netip.AddrPort, queue int) (netip.AddrPort, error) {
	if err := ln.Bind(addr); err != nil {
		return netip.AddrPort{}, err
	}
	bound, err := ln.LocalAddr()
	if err != nil {
		return netip.AddrPort{}, err
	}
	return bound, ln.Listen(queue)
}

// dial does the client's steps 4, 5 and 7: create and connect, then asks
// which port connect chose (getsockname). The caller closes the socket.
func dial(ctx context.Context, p *trace.Peer, addr netip.AddrPort) (*sock.Socket, error) {
	s, err := sock.Create(p, addr.Addr().Is6())
	if err != nil {
		return nil, err
	}
	if err := s.Connect(ctx, addr); err != nil {
		s.Close()
		return nil, err
	}
	if _, err := s.LocalAddr(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// oneConnection runs the lessons' usual setting: a server and a client, at
// the same time, over one TCP connection on loopback. The server does steps
// 1 to 3 and accepts (6, 8), the client connects (4, 5, 7), and each then
// plays its part of the lesson on its socket, closing it when the lesson
// says. Whatever fails, every socket is closed; the listening socket is
// closed last, once the server's part is over.
func oneConnection(ctx context.Context, tr *trace.Tracer,
	serverPart func(ctx context.Context, conn *sock.Socket) error,
	clientPart func(ctx context.Context, s *sock.Socket) error,
) error {
	server, client := tr.Peer("server", trace.Server), tr.Peer("client", trace.Client)
	announce := newAnnouncement()
	return runPeers(ctx, tr,
		func(ctx context.Context) error {
			defer server.Done()
			ln, err := listenAnnounced(server, announce, backlog)
			if err != nil {
				return err
			}
			defer ln.Close()
			conn, err := ln.Accept(ctx)
			if err != nil {
				return err
			}
			defer conn.Close()
			if err := serverPart(ctx, conn); err != nil {
				return err
			}
			return ln.Close()
		},
		clientPeer(client, announce, clientPart),
	)
}
