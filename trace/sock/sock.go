// Package sock is the traced socket API: every method makes exactly one
// real syscall (through golang.org/x/sys/unix) and records a Begin event just
// before it and an End event just after it (see package trace).
//
// Descriptors are blocking, as in the classic C and Python lessons: accept,
// connect and read really block the calling goroutine's thread in the kernel,
// and strace shows them doing so. Because close() from another thread does
// not wake a blocked accept() on Linux, every blocking method takes a context:
// when the context is done, the socket is shut down (shutdown(SHUT_RDWR),
// itself traced), which wakes the call, and the method returns an error that
// wraps both [ErrInterrupted] and the context's cause.
//
// A Socket is used by one goroutine at a time; a [Conn] made of one may
// read on one goroutine while it writes on another, as net.Conn allows.
package sock

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/socklab/socklab/internal/kernelview"
	"github.com/socklab/socklab/trace"
)

// A Socket is one traced socket descriptor.
type Socket struct {
	peer    *trace.Peer
	fd      int
	v6      bool
	kind    Kind
	linger0 bool // SO_LINGER is on with 0 seconds: close sends RST
	// recvTimeout is SO_RCVTIMEO's, once set: reads and accepts end by
	// themselves after it.
	recvTimeout time.Duration
	// nonblock: O_NONBLOCK is set (SetNonblock); calls fail with EAGAIN
	// instead of waiting.
	nonblock bool
	// listening: Listen succeeded; readable then means a connection is
	// queued. connecting: a non-blocking connect returned EINPROGRESS and
	// SocketError has not yet said 0.
	listening  bool
	connecting bool
	local      string
	remote     string
	// closing is the kernel's view after close, prepared before it (the
	// table it is read from, if so, open while the socket closes).
	closing kernelview.Closing
	// viewAfterClose: the tracer wants the kernel's view after this close.
	viewAfterClose bool
}

// Kind is the kind of socket: a TCP stream, UDP datagrams, or a stream
// between processes of this machine (a Unix domain socket).
type Kind int

const (
	TCP  Kind = iota // SOCK_STREAM over IP
	UDP              // SOCK_DGRAM over IP
	Unix             // AF_UNIX, SOCK_STREAM
)

// Create makes a new TCP socket, IPv6 if v6 is set, else IPv4: socket(2),
// traced as the create step.
func Create(p *trace.Peer, v6 bool) (*Socket, error) { return open(p, TCP, v6) }

// CreateUDP makes a new UDP socket, IPv6 if v6 is set.
func CreateUDP(p *trace.Peer, v6 bool) (*Socket, error) { return open(p, UDP, v6) }

// CreateUnix makes a new Unix domain stream socket.
func CreateUnix(p *trace.Peer) (*Socket, error) { return open(p, Unix, false) }

func open(p *trace.Peer, kind Kind, v6 bool) (*Socket, error) {
	if !supported {
		// Nothing is traced: no syscall is made.
		return nil, ErrUnsupported
	}
	e := trace.Event{Op: trace.OpCreate, Syscall: "socket", FD: -1, Arg: socketArg(kind, v6), Kind: kind.String()}
	if err := p.Admit(&e); err != nil {
		return nil, &CallError{Call: "socket", Err: err}
	}
	began := p.Begin(&e)
	fd, err := sysSocket(kind, v6)
	e.Ret, e.FD = result(fd, err), fd
	if err != nil {
		e.FD = -1
	}
	setErr(&e, err)
	madeDescriptor(err == nil, func() { p.End(&e, began) })
	if err != nil {
		return nil, &CallError{Call: "socket", Err: err}
	}
	return &Socket{peer: p, fd: fd, v6: v6, kind: kind}, nil
}

func socketArg(kind Kind, v6 bool) string {
	family, typ := "AF_INET", "SOCK_STREAM"
	switch {
	case kind == Unix:
		family = "AF_UNIX"
	case v6:
		family = "AF_INET6"
	}
	if kind == UDP {
		typ = "SOCK_DGRAM"
	}
	return family + ", " + typ + ", 0"
}

// SetPeer makes p trace this socket's calls from now on: a server that
// hands each accepted connection to a goroutine of its own gives each one
// a peer of its own, whose calls form their own sequence.
func (s *Socket) SetPeer(p *trace.Peer) { s.peer = p }

// Peer returns the peer that traces this socket's calls.
func (s *Socket) Peer() *trace.Peer { return s.peer }

// FD returns the socket's descriptor, or -1 once it is closed.
func (s *Socket) FD() int { return s.fd }

// Bind gives the socket a local address: bind(2).
func (s *Socket) Bind(addr netip.AddrPort) error {
	if s.fd < 0 {
		return ErrClosed
	}
	e := s.event(trace.OpBind, "bind")
	e.Local = addr.String()
	if err := s.peer.Admit(&e); err != nil {
		return &CallError{Call: "bind", Err: err}
	}
	began := s.peer.Begin(&e)
	err := sysBind(s.fd, addr)
	s.end(&e, began, result(0, err), err)
	if err != nil {
		return &CallError{Call: "bind", Arg: addr.String(), Err: err}
	}
	s.local = addr.String()
	return nil
}

// Listen turns the socket into a listening one: listen(2).
func (s *Socket) Listen(backlog int) error {
	if s.fd < 0 {
		return ErrClosed
	}
	e := s.event(trace.OpListen, "listen")
	e.Arg = strconv.Itoa(backlog)
	if err := s.peer.Admit(&e); err != nil {
		return &CallError{Call: "listen", Err: err}
	}
	began := s.peer.Begin(&e)
	err := unixListen(s.fd, backlog)
	s.end(&e, began, result(0, err), err)
	if err != nil {
		return &CallError{Call: "listen", Err: err}
	}
	s.listening = true
	return nil
}

// LocalAddr asks the kernel for the socket's local address: getsockname(2).
// After binding port 0, or after connect, it tells the port the kernel chose.
func (s *Socket) LocalAddr() (netip.AddrPort, error) {
	if s.fd < 0 {
		return netip.AddrPort{}, ErrClosed
	}
	e := s.event(trace.OpGetsockname, "getsockname")
	if err := s.peer.Admit(&e); err != nil {
		return netip.AddrPort{}, &CallError{Call: "getsockname", Err: err}
	}
	began := s.peer.Begin(&e)
	addr, err := sysGetsockname(s.fd)
	if err == nil {
		s.local = addr.String()
		e.Local = s.local
	}
	s.end(&e, began, result(0, err), err)
	if err != nil {
		return netip.AddrPort{}, &CallError{Call: "getsockname", Err: err}
	}
	return addr, nil
}

// Accept waits for a connection and returns a new socket for it: accept(2)
// (accept4 on Linux). The listening socket keeps listening.
func (s *Socket) Accept(ctx context.Context) (*Socket, error) {
	if s.fd < 0 {
		return nil, ErrClosed
	}
	if ctx.Err() != nil {
		// Interrupted before it began: no syscall, so nothing to trace.
		return nil, &CallError{Call: "accept", Err: interrupted(ctx, nil)}
	}
	e := s.event(trace.OpAccept, acceptSyscall)
	if err := s.peer.Admit(&e); err != nil {
		return nil, &CallError{Call: "accept", Err: err}
	}
	s.noteQueue(&e)
	began := s.peer.Begin(&e)
	var nfd int
	var remote netip.AddrPort
	over := s.receiving()
	woken, err := s.blocking(ctx, true, func() (err error) {
		nfd, remote, err = sysAccept(s.fd)
		return err
	})
	over()
	if err == nil {
		// A connection accepted just as the interrupt came is still a
		// connection: it is returned, for the caller to close.
		e.Remote = addrString(remote)
		woken = false
	}
	madeDescriptor(err == nil, func() { s.endBlocking(ctx, &e, began, result(nfd, err), err, woken) })
	if err != nil {
		return nil, &CallError{Call: "accept", Err: s.wrap(ctx, err, woken)}
	}
	// Where the new descriptor inherits O_NONBLOCK (macOS, not Linux),
	// the new socket is non-blocking too.
	return &Socket{peer: s.peer, fd: nfd, v6: s.v6, kind: s.kind, local: s.local, remote: addrString(remote),
		nonblock: s.nonblock && acceptInheritsNonblock}, nil
}

// Connect connects the socket to addr and waits for the handshake:
// connect(2). On a non-blocking socket it does not wait: it sends SYN and
// fails with EINPROGRESS ([InProgress]); the program then waits for the
// socket to become writable ([Poll]) and asks how the handshake ended
// ([Socket.SocketError]).
func (s *Socket) Connect(ctx context.Context, addr netip.AddrPort) error {
	if s.fd < 0 {
		return ErrClosed
	}
	if ctx.Err() != nil {
		// Interrupted before it began: no syscall, so nothing to trace.
		return &CallError{Call: "connect", Arg: addr.String(), Err: interrupted(ctx, nil)}
	}
	e := s.event(trace.OpConnect, "connect")
	e.Remote = addr.String()
	if err := s.peer.Admit(&e); err != nil {
		return &CallError{Call: "connect", Err: err}
	}
	began := s.peer.Begin(&e)
	// A connect a signal interrupted goes on in the kernel: calling it
	// again would fail with EALREADY, and show two calls where we trace one.
	woken, err := s.blocking(ctx, false, func() error { return sysConnect(s.fd, addr) })
	if err == nil {
		woken = false
	}
	if isEINPROGRESS(err) && !woken {
		// A non-blocking connect: the handshake goes on in the kernel,
		// with this peer address; SocketError says how it ended.
		s.remote, s.connecting = addr.String(), true
	}
	s.endBlocking(ctx, &e, began, result(0, err), err, woken)
	if err != nil {
		return &CallError{Call: "connect", Arg: addr.String(), Err: s.wrap(ctx, err, woken)}
	}
	s.remote = addr.String()
	return nil
}

// Write hands b to the kernel: write(2). It returns how many bytes the
// kernel took, which may be fewer than len(b).
func (s *Socket) Write(ctx context.Context, b []byte) (int, error) {
	if s.fd < 0 {
		return 0, ErrClosed
	}
	if ctx.Err() != nil {
		// Interrupted before it began: no syscall, so nothing to trace.
		return 0, &CallError{Call: "write", Err: interrupted(ctx, nil)}
	}
	e := s.event(trace.OpWrite, "write")
	e.N, e.Data, e.Offered, e.Arg = len(b), b, len(b), strconv.Itoa(len(b))
	if err := s.peer.Admit(&e); err != nil {
		return 0, &CallError{Call: "write", Err: err}
	}
	began := s.peer.Begin(&e)
	var n int
	woken, err := s.blocking(ctx, true, func() (err error) {
		n, err = unixWrite(s.fd, b)
		return err
	})
	if err == nil {
		e.N, e.Data = n, b[:n]
		woken = false
	} else {
		n, e.N = 0, 0 // e.Data keeps the bytes offered, as strace shows them
	}
	s.endBlocking(ctx, &e, began, result(n, err), err, woken)
	if err != nil {
		return 0, &CallError{Call: "write", Err: s.wrap(ctx, err, woken)}
	}
	return n, nil
}

// Read waits for bytes and reads at most len(b) of them: read(2). It returns
// 0 and no error when the peer closed its side (end of file).
func (s *Socket) Read(ctx context.Context, b []byte) (int, error) {
	if s.fd < 0 {
		return 0, ErrClosed
	}
	if ctx.Err() != nil {
		// Interrupted before it began: no syscall, so nothing to trace.
		return 0, &CallError{Call: "read", Err: interrupted(ctx, nil)}
	}
	e := s.event(trace.OpRead, "read")
	e.N, e.Offered, e.Arg = len(b), len(b), strconv.Itoa(len(b))
	if err := s.peer.Admit(&e); err != nil {
		return 0, &CallError{Call: "read", Err: err}
	}
	s.noteQueue(&e)
	began := s.peer.Begin(&e)
	var n int
	over := s.receiving()
	woken, err := s.blocking(ctx, true, func() (err error) {
		n, err = unixRead(s.fd, b)
		return err
	})
	over()
	n = max(n, 0)
	if err == nil && n > 0 {
		woken = false // bytes that arrived are bytes, interrupt or not
	}
	// A read woken by the shutdown returns 0 too: that is not the peer's
	// end of file, and the event says so (Interrupt).
	e.N, e.Data = n, b[:n]
	s.endBlocking(ctx, &e, began, result(n, err), err, woken)
	if err != nil || woken {
		return n, &CallError{Call: "read", Err: s.wrap(ctx, err, woken)}
	}
	return n, nil
}

// How says which direction Shutdown closes.
type How int

const (
	ShutRead  How = iota // SHUT_RD: no more reading
	ShutWrite            // SHUT_WR: no more writing; the peer reads EOF
	ShutBoth             // SHUT_RDWR
)

func (h How) String() string {
	switch h {
	case ShutRead:
		return "SHUT_RD"
	case ShutWrite:
		return "SHUT_WR"
	case ShutBoth:
		return "SHUT_RDWR"
	}
	return "How(" + strconv.Itoa(int(h)) + ")"
}

// Shutdown closes one or both directions of the connection without closing
// the descriptor: shutdown(2).
func (s *Socket) Shutdown(how How) error {
	if s.fd < 0 {
		return ErrClosed
	}
	e := s.event(trace.OpShutdown, "shutdown")
	e.Command, e.Arg = how.String(), how.String()
	if err := s.peer.Admit(&e); err != nil {
		return &CallError{Call: "shutdown", Err: err}
	}
	began := s.peer.Begin(&e)
	err := unixShutdown(s.fd, how)
	s.end(&e, began, result(0, err), err)
	if err != nil {
		return &CallError{Call: "shutdown", Arg: how.String(), Err: err}
	}
	return nil
}

// Close releases the descriptor: close(2). Closing a closed socket returns
// ErrClosed and makes no syscall, so `defer s.Close()` is safe beside an
// explicit Close.
func (s *Socket) Close() error {
	if s.fd < 0 {
		return ErrClosed
	}
	e := s.event(trace.OpClose, "close")
	if s.linger0 {
		e.Arg, e.Abort = "SO_LINGER 0", true // this close resets the connection instead of ending it
	}
	if err := s.peer.Admit(&e); err != nil {
		return &CallError{Call: "close", Err: err}
	}
	began := s.peer.Begin(&e)
	s.openTableBeforeClose()
	newDescriptor.RLock()
	err := unixClose(s.fd)
	// Whatever close returns, the descriptor is gone (close(2), NOTES).
	s.fd = -1
	s.end(&e, began, result(0, err), err)
	newDescriptor.RUnlock()
	if err != nil {
		return &CallError{Call: "close", Err: err}
	}
	return nil
}

// newDescriptor keeps the trace true to the kernel about descriptor
// numbers. Once close(9) has returned, the kernel may give 9 to the next
// socket or accept4 at once, while the close's End is still being recorded
// (after a read of the kernel's table, with the kernel's view on): the
// trace would then show socket() = 9 before close(9) ended. So a close
// holds a read lock from before its syscall until its End is recorded, and
// a call that makes a descriptor takes the write lock after its syscall,
// to record its End: a descriptor's new life is always recorded after its
// old close. Closes share the lock (though, as with any RWMutex, a call
// waiting to record a new descriptor holds back the closes that start
// after it), and no one holds it while a call blocks in the kernel.
var newDescriptor sync.RWMutex

// madeDescriptor runs record, which records the End of a call that made a
// descriptor if made, under newDescriptor's write lock.
func madeDescriptor(made bool, record func()) {
	if made {
		newDescriptor.Lock()
		defer newDescriptor.Unlock()
	}
	record()
}

func (s *Socket) event(op trace.Op, syscall string) trace.Event {
	return trace.Event{Op: op, Syscall: syscall, FD: s.fd, Local: s.local, Remote: s.remote, Kind: s.kind.String(), Nonblock: s.nonblock}
}

func (k Kind) String() string {
	switch k {
	case UDP:
		return "udp"
	case Unix:
		return "unix"
	}
	return "tcp"
}

func (s *Socket) end(e *trace.Event, began time.Time, ret int, err error) {
	if !s.peer.KernelState() {
		// Nothing to observe, so no clock to read twice (an untraced
		// call reads none).
		e.Ret = ret
		setErr(e, err)
		s.peer.End(e, began)
		return
	}
	elapsed := time.Since(began) // the syscall's time, not the observations'
	e.Ret = ret
	setErr(e, err)
	if e.Op == trace.OpClose {
		s.noteStateAfterClose(e, e.Local, e.Remote)
	} else {
		s.noteState(e)
	}
	s.peer.End(e, time.Now().Add(-elapsed))
}

// A Reasoner is a context cause that names itself with a short, stable
// code ("SIGINT", "connect-timeout"): the trace records the code, and each
// sink says it in its own words.
type Reasoner interface {
	Reason() string
}

// Reason returns the code of the cause of an interrupt: the cause's own if
// it is a Reasoner, "deadline" or "canceled" for the context package's
// errors, and the cause's text for any other.
func Reason(cause error) string {
	var r Reasoner
	switch {
	case errors.As(cause, &r):
		return r.Reason()
	case cause == nil || errors.Is(cause, context.Canceled):
		return "canceled"
	case errors.Is(cause, context.DeadlineExceeded):
		return "deadline"
	}
	return cause.Error()
}

// causeTextOf says why a call was interrupted, starting with "interrupted".
func causeTextOf(cause error) string {
	if cause == nil {
		return ErrInterrupted.Error()
	}
	if msg := cause.Error(); strings.HasPrefix(msg, ErrInterrupted.Error()) {
		return msg
	}
	return ErrInterrupted.Error() + ": " + cause.Error()
}

// result is the syscall's return value as strace shows it.
func result(v int, err error) int {
	if err != nil {
		return -1
	}
	return v
}

// ErrnoName returns the name of the errno inside err, like "ECONNREFUSED",
// or "" if there is none.
func ErrnoName(err error) string {
	name, _ := errnoOf(err)
	return name
}

func setErr(e *trace.Event, err error) {
	e.Err = err
	e.Errno = ""
	if name, ok := errnoOf(err); ok {
		e.Errno = name
	}
}
