package sock

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/socklab/socklab/trace"
)

// Waiting for readiness, as a non-blocking program does: poll(2) waits,
// in one call, until any of several sockets is ready; the program then
// calls accept, read or write on the ready ones, which return at once.

// A PollFor is one socket a [Poll] waits on, and for what: readable (a
// listener: a connection is queued; a connected socket: bytes, or the end
// of the stream) or writable (room to write; after a non-blocking
// connect, the handshake's end).
type PollFor struct {
	Socket      *Socket
	Read, Write bool
}

// Ready is one socket a [Poll] or an [Epoll]'s Wait found ready, and for
// what.
type Ready struct {
	Socket *Socket
	// Read and Write: readable, writable. Hangup: the peer hung up, or
	// the socket was shut down. Error: an error is pending (SO_ERROR says
	// which).
	Read, Write, Hangup, Error bool
}

// The events a poll waits for and reports, whatever the system calls them.
const (
	pollIn = 1 << iota
	pollOut
	pollHup
	pollErr
)

// ErrNothingToWaitFor is the error of a wait on no socket at all: with
// no timeout it would never return, and nothing could wake it.
var ErrNothingToWaitFor = errors.New("nothing to wait for: no socket in the set")

// Poll waits until at least one of the sockets is ready for what it is
// waited for: poll(2) (ppoll on Linux, which has no poll on every
// architecture), with no timeout. It returns the sockets that are ready.
// The wait is the kernel's, on this goroutine's thread; when ctx is done,
// every socket polled is shut down, which wakes the call, and Poll returns
// an error that wraps [ErrInterrupted] and the context's cause. Bound it
// with a context (trace.Peer.Within), as the lessons bound their reads.
func Poll(ctx context.Context, p *trace.Peer, wants ...PollFor) ([]Ready, error) {
	if len(wants) == 0 {
		return nil, &CallError{Call: pollSyscall, Err: ErrNothingToWaitFor}
	}
	sockets := make([]*Socket, len(wants))
	fds := make([]int, len(wants))
	events := make([]int, len(wants))
	waits := make([]trace.Wait, len(wants))
	for i, w := range wants {
		if w.Socket.fd < 0 {
			return nil, ErrClosed
		}
		sockets[i], fds[i] = w.Socket, w.Socket.fd
		if w.Read {
			events[i] |= pollIn
		}
		if w.Write {
			events[i] |= pollOut
		}
		waits[i] = w.Socket.wait(events[i])
	}
	if ctx.Err() != nil {
		return nil, &CallError{Call: pollSyscall, Err: interrupted(ctx, nil)}
	}
	e := trace.Event{Op: trace.OpPoll, Syscall: pollSyscall, FD: -1, Arg: pollForever, Timeout: -1, Waits: waits, Kind: wants[0].Socket.kind.String()}
	if err := p.Admit(&e); err != nil {
		return nil, &CallError{Call: pollSyscall, Err: err}
	}
	began := p.Begin(&e)
	var revents []int
	var n int
	woken, err := blockingOn(ctx, sockets, func() (err error) {
		n, revents, err = sysPoll(fds, events)
		return err
	})
	var ready []Ready
	e.Waits = nil
	for i, r := range revents {
		if r == 0 {
			continue
		}
		ready = append(ready, readyOf(sockets[i], r))
		e.Waits = append(e.Waits, sockets[i].wait(r))
	}
	endWait(ctx, p, &e, began, result(n, err), err, woken)
	if err != nil || woken {
		return ready, &CallError{Call: pollSyscall, Err: wrapWoken(ctx, err, woken)}
	}
	return ready, nil
}

// wait is the socket as a poll's or an epoll set's entry, waited for (or
// ready for) events.
func (s *Socket) wait(events int) trace.Wait {
	return trace.Wait{FD: s.fd, Read: events&pollIn != 0, Write: events&pollOut != 0, Hangup: events&pollHup != 0,
		Error: events&pollErr != 0, Socket: true, Listens: s.listening}
}

func readyOf(s *Socket, events int) Ready {
	return Ready{Socket: s, Read: events&pollIn != 0, Write: events&pollOut != 0, Hangup: events&pollHup != 0, Error: events&pollErr != 0}
}

// endWait records the End of a wait (a poll, an epoll_wait), saying why
// it returned if the interrupt woke it. A wait the interrupt woke returns
// because the shutdown made its sockets ready: it found nothing the
// program waited for.
func endWait(ctx context.Context, p *trace.Peer, e *trace.Event, began time.Time, ret int, err error, woken bool) {
	if woken {
		e.Interrupt = Reason(context.Cause(ctx))
	}
	e.Ret = ret
	setErr(e, err)
	p.End(e, began)
}

func wrapWoken(ctx context.Context, err error, woken bool) error {
	if woken {
		return interrupted(ctx, err)
	}
	return err
}

// blockingOn runs call, a wait on several sockets, so that ctx can
// interrupt it: when ctx is done, each socket is shut down (see
// Socket.blocking), which makes it ready and so wakes the wait. A call a
// signal interrupted is made again.
func blockingOn(ctx context.Context, sockets []*Socket, call func() error) (woken bool, err error) {
	returned := make(chan struct{})
	finished := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(finished)
		for _, s := range sockets {
			if s.fd >= 0 {
				s.interrupt(returned)
			}
		}
	})
	for {
		err = call()
		if !isEINTR(err) {
			break
		}
	}
	close(returned)
	if !stop() {
		<-finished
		return true, err
	}
	return false, err
}

// SocketError asks the socket for its pending error and clears it:
// getsockopt(SOL_SOCKET, SO_ERROR). After a non-blocking connect
// (EINPROGRESS) and a poll that found the socket writable, it is how the
// program learns how the handshake ended: pending is nil when it
// succeeded (the connection is made: step 7, where the program learns
// it), else the reason it failed (ECONNREFUSED, ETIMEDOUT). err is the
// getsockopt's own failure.
func (s *Socket) SocketError() (pending error, err error) {
	if s.fd < 0 {
		return nil, ErrClosed
	}
	e := s.event(trace.OpGetsockopt, "getsockopt")
	e.Option, e.Arg = "SO_ERROR", "SOL_SOCKET, SO_ERROR"
	if err := s.peer.Admit(&e); err != nil {
		return nil, &CallError{Call: "getsockopt", Err: err}
	}
	began := s.peer.Begin(&e)
	value, pending, err := sysSocketError(s.fd)
	if err == nil {
		e.Value = value
		e.Arg += ", [" + strconv.Itoa(value) + "]"
		e.Connected = value == 0 && s.connecting
		if value == 0 {
			s.connecting = false
		}
	}
	s.end(&e, began, result(0, err), err)
	if err != nil {
		return nil, &CallError{Call: "getsockopt", Arg: "SO_ERROR", Err: err}
	}
	return pending, nil
}

// InProgress reports whether err is a non-blocking connect's EINPROGRESS:
// not a failure, the handshake goes on in the kernel (see
// [Socket.SocketError]).
func InProgress(err error) bool { return isEINPROGRESS(err) }

// WouldBlock reports whether err is EAGAIN (EWOULDBLOCK): a call on a
// non-blocking socket that found nothing ready and returned at once.
func WouldBlock(err error) bool { return isEAGAIN(err) }
