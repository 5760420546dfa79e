package lessons

import (
	"context"
	"net/netip"

	"github.com/socklab/socklab/trace"
)

var echo = Lesson{
	Name:    "echo",
	Summary: "the server reads and echoes until read returns 0: how a server learns the client is done",
	Run:     runEcho,
}

// echoMessages are what the echo client says, one write each.
var echoMessages = []string{"hello", "你好", "bye"}

// An echo server does not know how many messages will come. It reads, and
// writes back what it read, until read returns 0: end of file, the client
// closed its side. Then it closes too.
func runEcho(ctx context.Context, tr *trace.Tracer, _ Options) error {
	server, client := tr.Peer("server", trace.Server), tr.Peer("client", trace.Client)
	ready := make(chan netip.AddrPort, 1)
	return runPeers(ctx,
		func(ctx context.Context) error {
			defer server.Done()
			defer close(ready)
			ln, addr, err := listenLocal(server)
			if err != nil {
				return err
			}
			defer ln.Close()
			ready <- addr
			conn, err := ln.Accept(ctx)
			if err != nil {
				return err
			}
			defer conn.Close()

			// The loop every server has: read, answer, until end of file.
			buf := make([]byte, ReadBuffer)
			for {
				n, err := conn.Read(ctx, buf)
				if err != nil {
					return err
				}
				if n == 0 {
					break // the client closed: nothing more will come
				}
				if err := writeAll(ctx, conn, buf[:n]); err != nil {
					return err
				}
			}
			if err := conn.Close(); err != nil {
				return err
			}
			return ln.Close()
		},
		func(ctx context.Context) error {
			defer client.Done()
			addr, ok := <-ready
			if !ok {
				return errPeerFailed
			}
			s, err := dial(ctx, client, addr)
			if err != nil {
				return err
			}
			defer s.Close()

			// One message at a time: write it, then read its echo. Waiting
			// for the echo keeps the messages apart in the stream (the
			// stream lesson shows what happens when they are not).
			buf := make([]byte, ReadBuffer)
			for _, m := range echoMessages {
				if err := writeAll(ctx, s, []byte(m)); err != nil {
					return err
				}
				if _, err := readAtLeast(ctx, s, buf, len(m)); err != nil {
					return err
				}
			}
			// Closing is how the client says "that was all".
			return s.Close()
		},
	)
}
