package lessons

import (
	"context"
	"os"
	"path/filepath"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/sock"
)

var unixLesson = Lesson{
	Name:    "unix",
	Summary: summary("unix"),
	Run:     runUnix,
	Uses:    []string{"message", "reply"},
}

// A Unix domain socket connects two processes of one machine through the
// kernel, with no network at all. The calls are the same as TCP's; the
// address is a path, and bind makes a file there that stays until it is
// removed (which is not a socket call, so the trace does not show it).
func runUnix(ctx context.Context, tr *trace.Tracer, opts Options) error {
	if err := opts.check(); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "socklab-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "server.sock")

	server, client := tr.Peer("server", trace.Server), tr.Peer("client", trace.Client)
	ready := make(chan struct{}, 1) // a value: listening; closed empty: failed
	return runPeers(ctx, tr,
		func(ctx context.Context) error {
			defer server.Done()
			defer close(ready)
			ln, err := sock.CreateUnix(server)
			if err != nil {
				return err
			}
			defer ln.Close()
			if err := ln.BindPath(path); err != nil {
				return err
			}
			if err := ln.Listen(backlog); err != nil {
				return err
			}
			ready <- struct{}{}
			conn, err := ln.Accept(ctx)
			if err != nil {
				return err
			}
			defer conn.Close()
			buf := make([]byte, ReadBuffer)
			if _, err := conn.Read(ctx, buf); err != nil {
				return err
			}
			if err := writeAll(ctx, conn, []byte(opts.reply())); err != nil {
				return err
			}
			if _, err := readUntilEOF(ctx, conn, buf); err != nil {
				return err
			}
			if err := conn.Close(); err != nil {
				return err
			}
			return ln.Close()
		},
		func(ctx context.Context) error {
			defer client.Done()
			select {
			case _, ok := <-ready:
				if !ok {
					return errPeerFailed // the server never got to listen
				}
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			s, err := sock.CreateUnix(client)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := s.ConnectPath(ctx, path); err != nil {
				return err
			}
			return sayAndHear(ctx, s, opts.message(), len(opts.reply()))
		},
	)
}
