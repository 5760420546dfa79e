package sock

import (
	"context"
	"slices"
	"strconv"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/i18n"
)

// An Epoll is an epoll instance (Linux): a descriptor standing for a set
// of sockets kept in the kernel, so that one epoll_wait waits on all of
// them without handing the list over again each time — how one thread
// serves many clients, and what Go's runtime poller, asyncio and Node are
// built on. Every method makes one real syscall, traced; elsewhere than
// Linux [CreateEpoll] fails with [ErrNoEpoll] and makes none.
//
// An Epoll is used by one goroutine at a time.
type Epoll struct {
	peer *trace.Peer
	fd   int
	set  []epollEntry // in the order they were added
}

type epollEntry struct {
	s      *Socket
	fd     int // the socket's descriptor when it was added
	events int // pollIn, pollOut
}

// epollKind is the Kind of an epoll descriptor's events: it is not a
// socket (its close is no step; its explanation is its own).
const epollKind = "epoll"

// ErrNoEpoll is the error of [CreateEpoll] where there is no epoll: it is
// Linux's (macOS and the BSDs have kqueue instead).
var ErrNoEpoll error = noEpollError{}

type noEpollError struct{}

func (noEpollError) Error() string {
	return "epoll is Linux's own (macOS and the BSDs have kqueue): this lesson runs on Linux only"
}

// Say says that there is no epoll here (i18n.Sayer).
func (noEpollError) Say(l i18n.Lang) string { return l.T("err.no_epoll") }

// CreateEpoll makes an epoll instance: epoll_create1(EPOLL_CLOEXEC).
func CreateEpoll(p *trace.Peer) (*Epoll, error) {
	if !hasEpoll {
		return nil, ErrNoEpoll // no syscall: nothing to trace
	}
	e := trace.Event{Op: trace.OpEpollCreate, Syscall: "epoll_create1", FD: -1, Arg: "EPOLL_CLOEXEC", Kind: epollKind}
	if err := p.Admit(&e); err != nil {
		return nil, &CallError{Call: "epoll_create1", Err: err}
	}
	began := p.Begin(&e)
	fd, err := sysEpollCreate()
	e.Ret = result(fd, err)
	setErr(&e, err)
	madeDescriptor(err == nil, func() { p.End(&e, began) })
	if err != nil {
		return nil, &CallError{Call: "epoll_create1", Err: err}
	}
	return &Epoll{peer: p, fd: fd}, nil
}

// FD returns the epoll instance's descriptor, or -1 once it is closed.
func (ep *Epoll) FD() int { return ep.fd }

// Add puts s in the set, watched for readable, writable or both:
// epoll_ctl(EPOLL_CTL_ADD).
func (ep *Epoll) Add(s *Socket, read, write bool) error {
	events := 0
	if read {
		events |= pollIn
	}
	if write {
		events |= pollOut
	}
	if err := ep.ctl("EPOLL_CTL_ADD", s, events); err != nil {
		return err
	}
	ep.set = append(ep.set, epollEntry{s: s, fd: s.fd, events: events})
	return nil
}

// Remove takes s out of the set: epoll_ctl(EPOLL_CTL_DEL). (Closing a
// socket takes it out too, once no other descriptor refers to it; a
// program that says so is easier to read.)
func (ep *Epoll) Remove(s *Socket) error {
	if err := ep.ctl("EPOLL_CTL_DEL", s, 0); err != nil {
		return err
	}
	ep.set = slices.DeleteFunc(ep.set, func(en epollEntry) bool { return en.s == s })
	return nil
}

func (ep *Epoll) ctl(command string, s *Socket, events int) error {
	if ep.fd < 0 || s.fd < 0 {
		return ErrClosed
	}
	w := s.wait(events)
	w.Remove = command == "EPOLL_CTL_DEL"
	e := trace.Event{Op: trace.OpEpollCtl, Syscall: "epoll_ctl", FD: ep.fd, Command: command, Waits: []trace.Wait{w}, Kind: epollKind}
	if err := ep.peer.Admit(&e); err != nil {
		return &CallError{Call: "epoll_ctl", Err: err}
	}
	began := ep.peer.Begin(&e)
	err := sysEpollCtl(ep.fd, command == "EPOLL_CTL_DEL", s.fd, events)
	e.Ret = result(0, err)
	setErr(&e, err)
	ep.peer.End(&e, began)
	if err != nil {
		return &CallError{Call: "epoll_ctl", Arg: command, Err: err}
	}
	return nil
}

// epollEvents is how many ready sockets one Wait can report.
const epollEvents = 16

// Wait waits until at least one socket of the set is ready for what it is
// watched for: epoll_wait(2) (epoll_pwait on Linux: x/sys/unix makes
// that call), with no timeout. It returns the ready sockets. When ctx is
// done, every socket of the set is shut down, which wakes the call, and
// Wait returns an error that wraps [ErrInterrupted] and the context's
// cause; bound it with a context (trace.Peer.Within). A wait on an empty
// set fails at once with [ErrNothingToWaitFor], without a syscall:
// nothing could wake it.
func (ep *Epoll) Wait(ctx context.Context) ([]Ready, error) {
	if ep.fd < 0 {
		return nil, ErrClosed
	}
	if len(ep.set) == 0 {
		return nil, &CallError{Call: "epoll_pwait", Err: ErrNothingToWaitFor}
	}
	if ctx.Err() != nil {
		return nil, &CallError{Call: "epoll_pwait", Err: interrupted(ctx, nil)}
	}
	waits := make([]trace.Wait, len(ep.set))
	sockets := make([]*Socket, len(ep.set))
	for i, en := range ep.set {
		waits[i], sockets[i] = en.s.wait(en.events), en.s
	}
	e := trace.Event{Op: trace.OpPoll, Syscall: "epoll_pwait", FD: ep.fd, Arg: strconv.Itoa(epollEvents) + ", -1",
		Timeout: -1, Waits: waits, Kind: epollKind}
	if err := ep.peer.Admit(&e); err != nil {
		return nil, &CallError{Call: "epoll_pwait", Err: err}
	}
	began := ep.peer.Begin(&e)
	var fds, revents []int
	woken, err := blockingOn(ctx, sockets, func() (err error) {
		fds, revents, err = sysEpollWait(ep.fd, epollEvents)
		return err
	})
	var ready []Ready
	e.Waits = nil
	for i, fd := range fds {
		for _, en := range ep.set {
			if en.fd == fd && en.s.fd == fd {
				ready = append(ready, readyOf(en.s, revents[i]))
				e.Waits = append(e.Waits, en.s.wait(revents[i]))
			}
		}
	}
	endWait(ctx, ep.peer, &e, began, result(len(fds), err), err, woken)
	if err != nil || woken {
		return ready, &CallError{Call: "epoll_pwait", Err: wrapWoken(ctx, err, woken)}
	}
	return ready, nil
}

// Close releases the epoll instance: close(2). Its sockets stay open.
// Closing a closed one returns ErrClosed and makes no syscall.
func (ep *Epoll) Close() error {
	if ep.fd < 0 {
		return ErrClosed
	}
	e := trace.Event{Op: trace.OpClose, Syscall: "close", FD: ep.fd, Kind: epollKind}
	if err := ep.peer.Admit(&e); err != nil {
		return &CallError{Call: "close", Err: err}
	}
	began := ep.peer.Begin(&e)
	newDescriptor.RLock()
	err := unixClose(ep.fd)
	ep.fd, ep.set = -1, nil
	e.Ret = result(0, err)
	setErr(&e, err)
	ep.peer.End(&e, began)
	newDescriptor.RUnlock()
	if err != nil {
		return &CallError{Call: "close", Err: err}
	}
	return nil
}

// Peer returns the peer that traces the epoll instance's calls.
func (ep *Epoll) Peer() *trace.Peer { return ep.peer }

// HasEpoll reports whether this system has epoll (Linux).
func HasEpoll() bool { return hasEpoll }
