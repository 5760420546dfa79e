package lessons

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/socklab/socklab/trace/sock"
)

// The time limits of the basic exchange's peers: each exists so that a
// machine never waits for ever, and counts only the time nobody holds the
// run (trace.Peer.Within).

// DefaultCloseWait is how long a server waits for its client to close first.
const DefaultCloseWait = 2 * time.Second

// DefaultReadTimeout is how long a peer waits for the other to say
// something before it gives up.
const DefaultReadTimeout = 30 * time.Second

// NoReadTimeout, as a ReadTimeout, means no time limit: a person is on the
// other side.
const NoReadTimeout time.Duration = -1

// ErrReadTimeout is wrapped by the error of a read that waited longer than
// its time limit: a *ReadTimeoutError.
var ErrReadTimeout error = reasonError{"read-timeout", "read timed out"}

// A ReadTimeoutError says that the peer sent nothing within Timeout.
type ReadTimeoutError struct{ Timeout time.Duration }

func (e *ReadTimeoutError) Error() string {
	return fmt.Sprintf("read: nothing arrived within %v: %v", e.Timeout, ErrReadTimeout)
}

func (e *ReadTimeoutError) Unwrap() error { return ErrReadTimeout }

// readWithin is one read that gives up after timeout of machine time: the
// time a person holds the run (--step, --delay) does not count. With
// NoReadTimeout it waits as long as it takes (until ctx is done), and
// calls waiting, if set, around the wait.
func readWithin(ctx context.Context, s *sock.Socket, buf []byte, timeout time.Duration, waiting func() (done func())) (int, error) {
	if timeout < 0 {
		if waiting != nil {
			defer waiting()()
		}
		return s.Read(ctx, buf)
	}
	ctx, cancel := s.Peer().Within(ctx, timeout, ErrReadTimeout)
	defer cancel()
	n, err := s.Read(ctx, buf)
	if errors.Is(err, ErrReadTimeout) {
		return n, &ReadTimeoutError{timeout}
	}
	return n, err
}

// deliveryWait bounds ConfirmDelivery's wait for the client's kernel to
// acknowledge the reply; past it, the server goes on without knowing.
const deliveryWait = time.Second

// errCloseWaitOver is the cause of a drain that timed out.
var errCloseWaitOver error = reasonError{"close-wait", "the client did not close in time"}

// drainUntilEOF reads until the peer closes, for at most wait. Bytes that
// still arrive are traced, like all bytes. A timeout is not an error: the
// server then closes first.
func drainUntilEOF(ctx context.Context, conn *sock.Socket, buf []byte, wait time.Duration) error {
	ctx, cancel := conn.Peer().Within(ctx, wait, errCloseWaitOver)
	defer cancel()
	for {
		n, err := conn.Read(ctx, buf)
		switch {
		case errors.Is(err, errCloseWaitOver):
			return nil
		case err != nil:
			return err
		case n == 0:
			return nil
		}
	}
}

// moreWait is how long the client waits for more of a reply after a read
// that filled its buffer. It must not be longer than trace.StallAfter: a
// bound that short tells the stall watch that the wait ends by itself
// (trace.Peer.Within), while the server, too, waits in read.
const moreWait = time.Second

// DefaultConnectTimeout is how long a client waits for the handshake.
const DefaultConnectTimeout = 10 * time.Second

// ErrConnectTimeout is wrapped by the error of a connect that timed out: a
// *ConnectTimeoutError.
var ErrConnectTimeout error = reasonError{"connect-timeout", "connect timed out"}

// A ConnectTimeoutError says that the server at Addr did not answer the
// handshake within Timeout.
type ConnectTimeoutError struct {
	Addr    netip.AddrPort
	Timeout time.Duration
}

func (e *ConnectTimeoutError) Error() string {
	return fmt.Sprintf("connect %s: no answer within %v: %v", e.Addr, e.Timeout, ErrConnectTimeout)
}

func (e *ConnectTimeoutError) Unwrap() error { return ErrConnectTimeout }
