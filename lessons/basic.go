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
	Uses:    []string{"message", "reply"},
	Script:  elevenSteps,
	Expect:  elevenStepsExpected,
}

// elevenSteps is the canonical story, 1 to 11, the teaching order of the
// basic exchange (and of ipv6, the same calls). Steps 7 and 8 are not
// turns: they are calls returning, which happens when the kernel is done,
// and that is the lesson of 5 to 8: connect returns (7) as soon as the
// handshake is over, before the server's accept has even begun (6).
var elevenSteps = []trace.Point{
	trace.BeginOf("server", trace.OpCreate),  // 1
	trace.BeginOf("server", trace.OpBind),    // 2
	trace.BeginOf("server", trace.OpListen),  // 3
	trace.BeginOf("client", trace.OpCreate),  // 4
	trace.BeginOf("client", trace.OpConnect), // 5, then 7
	trace.BeginOf("server", trace.OpAccept),  // 6, then 8
	trace.BeginOf("client", trace.OpWrite),   // 9
	trace.BeginOf("server", trace.OpRead),    // 10
	trace.BeginOf("server", trace.OpWrite),   // 9
	trace.BeginOf("client", trace.OpRead),    // 10
	trace.BeginOf("server", trace.OpRead),    // 10, until end of file
	trace.BeginOf("client", trace.OpClose),   // 11
	trace.BeginOf("server", trace.OpClose),   // 11, the connection
	trace.BeginOf("server", trace.OpClose),   // 11, the listener
}

// The basic lesson is the classic exchange: the [Server] and the [Client]
// (peers.go, where each step is explained) run at the same time, as two
// programs would. The only thing they share is the server's address, which
// the client needs before it can connect.
func runBasic(ctx context.Context, tr *trace.Tracer, opts Options) error {
	// Port 0: the kernel chooses a free port, so runs never collide.
	return serverAndClient(ctx, tr, opts, loopback4)
}

// serverAndClient runs Server on addr and Client against it, side by side.
func serverAndClient(ctx context.Context, tr *trace.Tracer, opts Options, addr netip.AddrPort) error {
	if err := opts.check(); err != nil {
		return err
	}
	ready := make(chan netip.AddrPort, 1)
	server, client := tr.Peer("server", trace.Server), tr.Peer("client", trace.Client)
	return runPeers(ctx, tr,
		func(ctx context.Context) error {
			defer close(ready) // the client stops waiting if the server fails early
			return Server(ctx, server, ServerConfig{
				Addr:      addr,
				Listening: func(addr netip.AddrPort) { ready <- addr },
				Reply:     func(context.Context, []byte) (string, error) { return opts.reply(), nil },
			})
		},
		func(ctx context.Context) error {
			// The client waits until the server listens: connecting any
			// earlier would be refused.
			defer client.Done() // if it never starts, no one waits for its turns
			addr, ok := <-ready
			if !ok {
				return errPeerFailed // the server never got to listen
			}
			return Client(ctx, client, ClientConfig{
				Addr:    addr,
				Message: func(context.Context) (string, error) { return opts.message(), nil },
			})
		},
	)
}
