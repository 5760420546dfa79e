package lessons

import (
	"context"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/sock"
)

var echo = Lesson{
	Name:    "echo",
	Summary: summary("echo"),
	Run:     runEcho,
}

// echoMessages are what the echo client says, one write each.
var echoMessages = []string{"hello", "你好", "bye"}

// An echo server does not know how many messages will come. It reads, and
// writes back what it read, until read returns 0: end of file, the client
// closed its side. Then it closes too.
func runEcho(ctx context.Context, tr *trace.Tracer, _ Options) error {
	return oneConnection(ctx, tr,
		func(ctx context.Context, conn *sock.Socket) error {
			// The loop every server has: read, answer, until end of file.
			return echoOnce(ctx, conn)
		},
		func(ctx context.Context, s *sock.Socket) error {
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
