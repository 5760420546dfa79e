package lessons

import (
	"context"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/sock"
)

var halfclose = Lesson{
	Name:    "halfclose",
	Summary: summary("halfclose"),
	Run:     runHalfclose,
	Uses:    []string{"message", "reply"},
}

// close ends both directions at once. shutdown(SHUT_WR) ends only the
// client's sending: the server reads end of file, and can still answer,
// because the other direction is open. HTTP/1.0 clients and many tools
// (nc -N) work this way.
func runHalfclose(ctx context.Context, tr *trace.Tracer, opts Options) error {
	if err := opts.check(); err != nil {
		return err
	}
	return oneConnection(ctx, tr,
		func(ctx context.Context, conn *sock.Socket) error {
			// Read the whole request: everything until end of file.
			if _, err := readUntilEOF(ctx, conn, make([]byte, ReadBuffer)); err != nil {
				return err
			}
			// The client will send nothing more, but it still listens.
			if err := writeAll(ctx, conn, []byte(opts.reply())); err != nil {
				return err
			}
			return conn.Close()
		},
		func(ctx context.Context, s *sock.Socket) error {
			if err := writeAll(ctx, s, []byte(opts.message())); err != nil {
				return err
			}
			// Done sending: the server's read will return 0.
			if err := s.Shutdown(sock.ShutWrite); err != nil {
				return err
			}
			// Yet the reply still comes in, up to the server's close.
			if _, err := readUntilEOF(ctx, s, make([]byte, ReadBuffer)); err != nil {
				return err
			}
			return s.Close()
		},
	)
}
