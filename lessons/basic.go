package lessons

import (
	"context"
	"net/netip"

	"github.com/socklab/socklab/trace"
)

var basic = Lesson{
	Name:    "basic",
	Summary: "the 11 steps: a server and a client exchange one message and one reply, then close",
	Run:     runBasic,
}

// The basic lesson is the classic exchange: the [Server] and the [Client]
// (peers.go, where each step is explained) run at the same time, as two
// programs would. The only thing they share is the server's address, which
// the client needs before it can connect.
func runBasic(ctx context.Context, tr *trace.Tracer, opts Options) error {
	if err := opts.check(); err != nil {
		return err
	}
	ready := make(chan netip.AddrPort, 1)
	return runPeers(ctx,
		func(ctx context.Context) error {
			defer close(ready) // the client stops waiting if the server fails early
			return Server(ctx, tr.Peer("server", trace.Server), ServerConfig{
				// Port 0: the kernel chooses a free port, so runs never collide.
				Addr:      netip.MustParseAddrPort("127.0.0.1:0"),
				Listening: func(addr netip.AddrPort) { ready <- addr },
				Reply: func(context.Context, []byte) (string, error) {
					return opts.reply(), nil
				},
			})
		},
		func(ctx context.Context) error {
			// The client waits until the server listens: connecting any
			// earlier would be refused.
			select {
			case addr, ok := <-ready:
				if !ok {
					return errPeerFailed // the server never got to listen
				}
				return Client(ctx, tr.Peer("client", trace.Client), ClientConfig{
					Addr:    addr,
					Message: func(context.Context) (string, error) { return opts.message(), nil },
				})
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		},
	)
}
