package lessons

import (
	"context"
	"errors"
	"fmt"

	"github.com/socklab/socklab/trace/sock"
)

// What the lessons on non-blocking sockets share (nonblocking, epoll):
// a bounded wait for one socket, and the error of a call that did not do
// what the lesson shows.

// readyWait bounds every wait for readiness: as long as a read's
// (DefaultReadTimeout), counted in machine time only (trace.Peer.Within),
// so that a person holding the run (--step) changes nothing.
const readyWait = DefaultReadTimeout

// errReadyWait is the cause of a wait for readiness that ran out.
var errReadyWait error = reasonError{"ready-timeout", "nothing became ready in time"}

// pollOne waits in poll until s is readable (read) or writable (write),
// for at most readyWait.
func pollOne(ctx context.Context, s *sock.Socket, read, write bool) error {
	ctx, cancel := s.Peer().Within(ctx, readyWait, errReadyWait)
	defer cancel()
	_, err := sock.Poll(ctx, s.Peer(), sock.PollFor{Socket: s, Read: read, Write: write})
	return err
}

// An UnexpectedError says that a call of a non-blocking lesson did not
// do what the lesson shows it doing (accept and read fail with EAGAIN,
// connect with EINPROGRESS, a read at the end returns 0).
type UnexpectedError struct {
	Call string
	Err  error // what it returned instead (nil: it succeeded)
}

func (e *UnexpectedError) Error() string {
	if e.Err == nil {
		return e.Call + " succeeded where the lesson shows it failing with nothing ready"
	}
	return fmt.Sprintf("%s did not do what the lesson shows: %v", e.Call, e.Err)
}

func (e *UnexpectedError) Unwrap() error { return e.Err }

// unexpected returns the error of a call that did not do what the lesson
// shows; an interrupted call's own error is returned as it is.
func unexpected(call string, err error) error {
	if errors.Is(err, sock.ErrInterrupted) {
		return err
	}
	return &UnexpectedError{Call: call, Err: err}
}

// waitReady waits in epoll_wait until a socket of ep's set is ready, for
// at most readyWait, and returns those that are.
func waitReady(ctx context.Context, ep *sock.Epoll) ([]sock.Ready, error) {
	ctx, cancel := ep.Peer().Within(ctx, readyWait, errReadyWait)
	defer cancel()
	return ep.Wait(ctx)
}
