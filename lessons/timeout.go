package lessons

import (
	"context"
	"errors"
	"syscall"
	"time"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/sock"
)

var timeout = Lesson{
	Name:    "timeout",
	Summary: summary("timeout"),
	Run:     runTimeout,
}

// readDeadline is how long the timeout lesson's client waits. (A variable
// only so that this package's tests, which play the lesson hundreds of
// times, can make it shorter: the kernel's SO_RCVTIMEO works the same.)
var readDeadline = 100 * time.Millisecond

// A read on a peer that says nothing waits for ever. SO_RCVTIMEO gives it a
// deadline: when nothing arrived in time, the kernel gives up and read
// fails with EAGAIN ("try again"). The connection is still open; the
// client decides to close it.
func runTimeout(ctx context.Context, tr *trace.Tracer, _ Options) error {
	return oneConnection(ctx, tr,
		func(ctx context.Context, conn *sock.Socket) error {
			// A silent server: it says nothing, and waits for the client
			// to give up and close.
			if _, err := readUntilEOF(ctx, conn, make([]byte, ReadBuffer)); err != nil {
				return err
			}
			return conn.Close()
		},
		func(ctx context.Context, s *sock.Socket) error {
			// Without a limit, this read would wait for ever. With
			// SO_RCVTIMEO, the kernel gives up after the deadline and read
			// fails with EAGAIN ("try again").
			if err := s.SetRecvTimeout(readDeadline); err != nil {
				return err
			}
			_, err := s.Read(ctx, make([]byte, ReadBuffer))
			if !errors.Is(err, syscall.EAGAIN) {
				return storyError("read", "EAGAIN", err)
			}
			return s.Close()
		},
	)
}
