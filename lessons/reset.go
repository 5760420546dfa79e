package lessons

import (
	"context"
	"errors"
	"syscall"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/sock"
)

var reset = Lesson{
	Name:    "reset",
	Summary: summary("reset"),
	Run:     runReset,
}

// A normal close ends a connection with FIN: the peer reads 0. With
// SO_LINGER on and a linger time of 0, close aborts it instead: the kernel
// drops what was unsent and sends RST, and the peer's next read fails with
// ECONNRESET. No TIME_WAIT follows.
func runReset(ctx context.Context, tr *trace.Tracer, _ Options) error {
	return oneConnection(ctx, tr,
		func(ctx context.Context, conn *sock.Socket) error {
			// The server waits for a message; what comes is a reset.
			_, err := conn.Read(ctx, make([]byte, ReadBuffer))
			if !errors.Is(err, syscall.ECONNRESET) {
				return storyError("read", "ECONNRESET", err)
			}
			return conn.Close()
		},
		func(ctx context.Context, s *sock.Socket) error {
			// SO_LINGER on, 0 seconds: close will not send FIN after the
			// data; it aborts the connection with RST, and no TIME_WAIT.
			if err := s.SetLinger(true, 0); err != nil {
				return err
			}
			return s.Close()
		},
	)
}
