package sock

import (
	"fmt"
	"strconv"
	"time"

	"github.com/socklab/socklab/trace"
)

// SetLinger sets SO_LINGER. With on and 0 seconds, close no longer sends
// FIN after the data: it throws the connection away and sends RST, and the
// peer's next call fails with ECONNRESET.
func (s *Socket) SetLinger(on bool, seconds int) error {
	onoff := 0
	if on {
		onoff = 1
	}
	err := s.setsockopt("SO_LINGER", fmt.Sprintf("SOL_SOCKET, SO_LINGER, {l_onoff=%d, l_linger=%d}", onoff, seconds),
		func() error { return sysSetLinger(s.fd, onoff, seconds) })
	if err == nil {
		s.linger0 = on && seconds == 0
	}
	return err
}

// SetReuseAddr sets SO_REUSEADDR: bind may then take a port that
// connections in TIME_WAIT still hold (but not one a socket listens on).
func (s *Socket) SetReuseAddr(on bool) error {
	v := 0
	if on {
		v = 1
	}
	return s.setsockopt("SO_REUSEADDR", fmt.Sprintf("SOL_SOCKET, SO_REUSEADDR, %d", v),
		func() error { return sysSetReuseAddr(s.fd, v) })
}

// SetRecvTimeout sets SO_RCVTIMEO: a read (or accept) that waits longer
// than d fails with EAGAIN instead of blocking for ever.
func (s *Socket) SetRecvTimeout(d time.Duration) error {
	err := s.setsockopt("SO_RCVTIMEO", fmt.Sprintf("SOL_SOCKET, SO_RCVTIMEO, %v", d),
		func() error { return sysSetRecvTimeout(s.fd, d) })
	if err == nil {
		s.recvTimeout = d
	}
	return err
}

// receiving tells the stall watch, for a read or an accept, that the
// kernel ends the wait by itself when SO_RCVTIMEO is set (see
// trace.Peer.EndsWithin). Call the result when the call is over.
func (s *Socket) receiving() (over func()) {
	if s.recvTimeout <= 0 {
		return func() {}
	}
	return s.peer.EndsWithin(s.recvTimeout)
}

// setsockopt traces one setsockopt(2) call of option, described by arg.
func (s *Socket) setsockopt(option, arg string, call func() error) error {
	if s.fd < 0 {
		return ErrClosed
	}
	e := s.event(trace.OpSetsockopt, "setsockopt")
	e.Option, e.Arg = option, arg
	if err := s.peer.Admit(&e); err != nil {
		return &CallError{Call: "setsockopt", Err: err}
	}
	began := s.peer.Begin(&e)
	err := call()
	s.end(&e, began, result(0, err), err)
	if err != nil {
		return &CallError{Call: "setsockopt", Arg: arg, Err: err}
	}
	return nil
}

// dupForPoller duplicates the descriptor for Go's runtime poller (see
// NewConn): fcntl(F_DUPFD_CLOEXEC), traced as the fcntl op. The duplicate
// is the runtime's from then on: it watches it with epoll or kqueue and
// closes it, and those calls are not traced. It is numbered from
// pollerFDs up, away from the small numbers the kernel gives sockets, so
// that the trace never shows a socket given a number whose untraced close
// it did not see.
func (s *Socket) dupForPoller() (int, error) {
	dup, err := s.dupFrom(pollerFDs)
	if isEINVAL(err) {
		// pollerFDs is above the limit on descriptors (ulimit -n): any
		// number will do.
		dup, err = s.dupFrom(0)
	}
	return dup, err
}

// pollerFDs is where the poller's duplicates are numbered from.
const pollerFDs = 1000

func (s *Socket) dupFrom(low int) (int, error) {
	if s.fd < 0 {
		return -1, ErrClosed
	}
	e := s.event(trace.OpFcntl, "fcntl")
	e.Command, e.Arg = "F_DUPFD_CLOEXEC", "F_DUPFD_CLOEXEC, "+strconv.Itoa(low)
	if err := s.peer.Admit(&e); err != nil {
		return -1, &CallError{Call: "fcntl", Err: err}
	}
	began := s.peer.Begin(&e)
	dup, err := sysDupForPoller(s.fd, low)
	if err == nil {
		newDescriptor.Lock() // dup makes a descriptor too
		defer newDescriptor.Unlock()
	}
	s.end(&e, began, result(dup, err), err)
	if err != nil {
		return -1, &CallError{Call: "fcntl", Arg: e.Arg, Err: err}
	}
	return dup, nil
}

// SetNonblock makes the descriptor non-blocking, as Go's net package makes
// every socket: fcntl(F_SETFL, O_NONBLOCK), traced as the fcntl op. From
// then on accept, read and write fail with EAGAIN instead of waiting; the
// caller waits for readiness elsewhere (see [NewConn]).
func (s *Socket) SetNonblock() error {
	if s.fd < 0 {
		return ErrClosed
	}
	e := s.event(trace.OpFcntl, "fcntl")
	e.Command, e.Arg = "F_SETFL", "F_SETFL, O_NONBLOCK"
	if err := s.peer.Admit(&e); err != nil {
		return &CallError{Call: "fcntl", Err: err}
	}
	began := s.peer.Begin(&e)
	err := sysSetNonblock(s.fd)
	s.end(&e, began, result(0, err), err)
	if err != nil {
		return &CallError{Call: "fcntl", Arg: e.Arg, Err: err}
	}
	s.nonblock = true
	return nil
}
