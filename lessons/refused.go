package lessons

import (
	"context"
	"errors"
	"syscall"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/sock"
)

var refused = Lesson{
	Name:    "refused",
	Summary: summary("refused"),
	Run:     runRefused,
}

// connect to a port where nothing listens fails at once: the client's SYN
// reaches a kernel that has no listening socket for that port, and the
// kernel answers RST. connect returns ECONNREFUSED; step 5 never gets to 7.
// The port is bound by the server, so that it stays unused, but nothing
// listens on it.
func runRefused(ctx context.Context, tr *trace.Tracer, _ Options) error {
	server, client := tr.Peer("server", trace.Server), tr.Peer("client", trace.Client)

	// A port nobody listens on: the server binds one and never calls
	// listen. It keeps the port while the client tries, so that no one
	// else can take it meanwhile.
	s, err := sock.Create(server, false)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Bind(loopback4); err != nil {
		return err
	}
	addr, err := s.LocalAddr()
	if err != nil {
		return err
	}

	// The client's SYN reaches a kernel with no socket listening on that
	// port. The kernel answers RST at once, and connect fails (step 5
	// never gets to 7).
	c, err := sock.Create(client, false)
	if err != nil {
		return err
	}
	defer c.Close()
	err = c.Connect(ctx, addr)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return storyError("connect", "ECONNREFUSED", err)
	}
	if err := c.Close(); err != nil {
		return err
	}
	return s.Close()
}
