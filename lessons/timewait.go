package lessons

import (
	"context"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/sock"
)

var timewait = Lesson{
	Name:    "timewait",
	Summary: summary("timewait"),
	Run:     runTimewait,
}

// TIME_WAIT is not the server's fate, nor the client's: it falls on
// whichever side closes first, which keeps the connection's memory for a
// minute (60 s on Linux) so that late packets of it die out. Two rounds on
// one listening socket show it: first the client closes first, then the
// server. Run it with the kernel's view on (socklab run timewait does) to
// see each close's state.
func runTimewait(ctx context.Context, tr *trace.Tracer, _ Options) error {
	server := tr.Peer("server", trace.Server)
	ln, addr, err := listenLocal(server, backlog)
	if err != nil {
		return err
	}
	defer ln.Close()

	// Round 1: the client closes first; the server reads end of file, then
	// closes. The client's socket is left in TIME_WAIT.
	first := tr.Peer("client-1", trace.Client)
	err = runPeers(ctx, tr,
		func(ctx context.Context) error {
			conn, err := ln.Accept(ctx)
			if err != nil {
				return err
			}
			defer conn.Close()
			if _, err := readUntilEOF(ctx, conn, make([]byte, ReadBuffer)); err != nil {
				return err
			}
			return conn.Close()
		},
		func(ctx context.Context) error {
			s, err := dial(ctx, first, addr)
			if err != nil {
				return err
			}
			return closeFirst(s)
		},
	)
	first.Done() // its part is over: the stall watch of round 2 counts only the peers still playing
	if err != nil {
		return err
	}

	// Round 2: the server closes first; the client reads end of file, then
	// closes. Now it is the server's socket that waits in TIME_WAIT.
	second := tr.Peer("client-2", trace.Client)
	err = runPeers(ctx, tr,
		func(ctx context.Context) error {
			conn, err := ln.Accept(ctx)
			if err != nil {
				return err
			}
			return closeFirst(conn)
		},
		func(ctx context.Context) error {
			s, err := dial(ctx, second, addr)
			if err != nil {
				return err
			}
			defer s.Close()
			if _, err := readUntilEOF(ctx, s, make([]byte, ReadBuffer)); err != nil {
				return err
			}
			return s.Close()
		},
	)
	if err != nil {
		return err
	}
	return ln.Close()
}

// closeFirst closes a connection its peer has not closed: this side sends
// the first FIN.
func closeFirst(s *sock.Socket) error {
	return s.Close()
}
