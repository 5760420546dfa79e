package lessons

import (
	"context"
	"errors"
	"net/netip"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/sock"
)

// The lessons after basic reuse its first steps through these helpers, so
// that each one shows only what it is about. basic and peers.go spell every
// step out.

var (
	loopback4 = netip.MustParseAddrPort("127.0.0.1:0")
	loopback6 = netip.MustParseAddrPort("[::1]:0")
)

// listenLocal does the server's steps 1 to 3 on the loopback address and a
// port the kernel chooses: create, bind, getsockname, listen. The caller
// closes the socket.
func listenLocal(p *trace.Peer) (*sock.Socket, netip.AddrPort, error) {
	ln, err := sock.Create(p, false)
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	addr, err := bindListen(ln, loopback4)
	if err != nil {
		ln.Close()
		return nil, netip.AddrPort{}, err
	}
	return ln, addr, nil
}

// bindListen binds ln to addr, asks which port it got, and listens.
func bindListen(ln *sock.Socket, addr netip.AddrPort) (netip.AddrPort, error) {
	if err := ln.Bind(addr); err != nil {
		return netip.AddrPort{}, err
	}
	bound, err := ln.LocalAddr()
	if err != nil {
		return netip.AddrPort{}, err
	}
	return bound, ln.Listen(backlog)
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

// readFull reads exactly len(buf) bytes, with as many reads as it takes.
// It fails if the peer closes first.
func readFull(ctx context.Context, s *sock.Socket, buf []byte) error {
	for got := 0; got < len(buf); {
		n, err := s.Read(ctx, buf[got:])
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrPeerClosed
		}
		got += n
	}
	return nil
}

// readAtLeast reads into buf until at least n bytes came, and returns how
// many did. It fails if the peer closes first.
func readAtLeast(ctx context.Context, s *sock.Socket, buf []byte, n int) (int, error) {
	got := 0
	for got < n {
		m, err := s.Read(ctx, buf[got:])
		if err != nil {
			return got, err
		}
		if m == 0 {
			return got, ErrPeerClosed
		}
		got += m
	}
	return got, nil
}

// readUntilEOF reads until the peer closes its side, and returns how many
// bytes came before that.
func readUntilEOF(ctx context.Context, s *sock.Socket, buf []byte) (int, error) {
	total := 0
	for {
		n, err := s.Read(ctx, buf)
		if err != nil {
			return total, err
		}
		if n == 0 {
			return total, nil
		}
		total += n
	}
}

// errStoryDidNotHappen is returned by a lesson whose point did not show:
// the call that should have failed succeeded, or the other way round.
var errStoryDidNotHappen = errors.New("the lesson's story did not happen")

// closeAll closes sockets, for defer; closing a closed one does nothing.
func closeAll(sockets ...*sock.Socket) {
	for _, s := range sockets {
		if s != nil {
			s.Close()
		}
	}
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
			ln, err := listenAnnounced(server, announce)
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
