package sock

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/socklab/socklab/trace"
)

// This file presents traced sockets as a net.Listener and a net.Conn, so
// that unmodified libraries (net/http, a WebSocket library) run on them and
// every accept, read, write and close they cause is traced.
//
// Those libraries need what Go's own net.Conn gives them: deadlines that can
// wake a call already waiting (net/http's server aborts a background read
// that way, then reads the next request on the same connection), and Close
// from another goroutine waking a blocked Read. A blocking descriptor can
// give neither without destroying the connection (only shutdown wakes a
// blocked read on Linux). So the adapter does what Go's net package does:
// the descriptor is made non-blocking (O_NONBLOCK, the traced fcntl), each
// call is tried at once, and when the kernel answers EAGAIN the goroutine
// waits on the runtime's poller (epoll, kqueue) until the socket is ready.
// The tries, EAGAIN included, are traced; the poller's own syscalls are the
// runtime's and are not.
//
// The poller watches a duplicate of the descriptor (fcntl F_DUPFD_CLOEXEC,
// traced) wrapped in an *os.File, which brings deadlines and wake-up on
// close; every traced call is made on the original descriptor, and its
// close is a traced close(2) made exactly when Close is called. Readiness
// belongs to the socket, not to the descriptor, so watching the duplicate
// is watching the socket. The duplicate is the runtime's: its epoll_ctl,
// fcntl and close calls are not traced, like the poller's epoll_wait.

// poller is the part a Conn and a Listener share: the duplicate the
// runtime's poller watches, and the bookkeeping that lets Close wait until
// no call is using the socket before it closes the descriptor.
type poller struct {
	file *os.File
	raw  syscall.RawConn

	mu       sync.Mutex
	closed   bool
	inflight sync.WaitGroup
	done     chan struct{} // closed once the socket is
}

func newPoller(s *Socket) (*poller, error) {
	if err := s.SetNonblock(); err != nil {
		return nil, err
	}
	dup, err := s.dupForPoller()
	if err != nil {
		return nil, err
	}
	file := os.NewFile(uintptr(dup), "socklab poller")
	raw, err := file.SyscallConn()
	if err != nil {
		file.Close()
		return nil, err
	}
	return &poller{file: file, raw: raw, done: make(chan struct{})}, nil
}

// enter registers a call; it reports false once the poller is closed.
func (p *poller) enter() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.inflight.Add(1)
	return true
}

func (p *poller) leave() { p.inflight.Done() }

func (p *poller) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// close wakes every call waiting on the poller, waits until none is using
// the socket, then closes it with a traced close(2). A second close waits
// for the first to finish, so that whoever calls Close knows, when it
// returns, that the socket is closed and its close traced (net/http's
// server may close a connection from two goroutines at once).
func (p *poller) close(s *Socket) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.done
		return net.ErrClosed
	}
	p.closed = true
	p.mu.Unlock()
	defer close(p.done)
	p.file.Close() // wakes waiting calls with os.ErrClosed
	p.inflight.Wait()
	return s.Close()
}

// wait runs try, a traced non-blocking call, until it does not fail with
// EAGAIN, waiting on the poller in between. An error from the poller itself
// (a deadline, or the socket closed) is returned as pollErr.
func (p *poller) wait(write bool, try func() error) (err, pollErr error) {
	again := func(uintptr) bool {
		err = try()
		return !isEAGAIN(err)
	}
	if write {
		pollErr = p.raw.Write(again)
	} else {
		pollErr = p.raw.Read(again)
	}
	if pollErr != nil && p.isClosed() {
		// The os package's "use of closed file": to a net.Conn's caller
		// the socket is closed.
		pollErr = net.ErrClosed
	}
	return err, pollErr
}

// A Conn is a traced socket as a net.Conn. Read and Write may be called
// from different goroutines at once, and Close from any goroutine.
type Conn struct {
	s *Socket
	p *poller
}

var _ net.Conn = (*Conn)(nil)

// NewConn makes a connected socket a net.Conn: it sets O_NONBLOCK (traced)
// and hands a duplicate of the descriptor to the runtime's poller. The
// Conn owns s from then on.
func NewConn(s *Socket) (*Conn, error) {
	p, err := newPoller(s)
	if err != nil {
		return nil, err
	}
	return &Conn{s: s, p: p}, nil
}

// Done is closed once the connection is closed and its close traced:
// whoever closes it (a library's own goroutine, often), the trace is
// complete for it then.
func (c *Conn) Done() <-chan struct{} { return c.p.done }

// Socket returns the traced socket under the connection.
func (c *Conn) Socket() *Socket { return c.s }

// Read reads once the kernel has bytes for it: one traced read(2) per try.
func (c *Conn) Read(b []byte) (int, error) {
	if !c.p.enter() {
		return 0, c.opError("read", net.ErrClosed)
	}
	defer c.p.leave()
	if len(b) == 0 {
		return 0, nil // as Go's net.Conn: nothing to read into, no syscall
	}
	var n int
	err, pollErr := c.p.wait(false, func() (err error) {
		n, err = c.s.Read(context.Background(), b)
		return err
	})
	switch {
	case pollErr != nil:
		return 0, c.opError("read", pollErr)
	case err != nil:
		return n, c.opError("read", unwrapCall(err))
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// Write writes all of b, in as many traced write(2) calls as the kernel
// needs, waiting whenever its send buffer is full. The poller's write lock
// is held for the whole of b, so two Writes at once never mix their bytes.
func (c *Conn) Write(b []byte) (int, error) {
	if !c.p.enter() {
		return 0, c.opError("write", net.ErrClosed)
	}
	defer c.p.leave()
	written := 0
	err, pollErr := c.p.wait(true, func() error {
		for written < len(b) {
			n, err := c.s.Write(context.Background(), b[written:])
			written += n
			if err != nil {
				return err // EAGAIN: wait for room, then go on from here
			}
		}
		return nil
	})
	switch {
	case pollErr != nil:
		return written, c.opError("write", pollErr)
	case err != nil:
		return written, c.opError("write", unwrapCall(err))
	}
	return written, nil
}

// Close wakes any call waiting on the connection and closes the socket:
// one traced close(2).
func (c *Conn) Close() error {
	if err := c.p.close(c.s); err != nil {
		return c.opError("close", unwrapCall(err))
	}
	return nil
}

func (c *Conn) LocalAddr() net.Addr  { return tcpAddr(c.s.local) }
func (c *Conn) RemoteAddr() net.Addr { return tcpAddr(c.s.remote) }

// The deadlines are the poller's: a call waiting past its deadline is
// woken with os.ErrDeadlineExceeded, and no syscall is made for that.
func (c *Conn) SetDeadline(t time.Time) error {
	return c.deadline("set", c.p.file.SetDeadline(t))
}

func (c *Conn) SetReadDeadline(t time.Time) error {
	return c.deadline("set", c.p.file.SetReadDeadline(t))
}

func (c *Conn) SetWriteDeadline(t time.Time) error {
	return c.deadline("set", c.p.file.SetWriteDeadline(t))
}

// deadline maps the os package's error for a closed file to net.ErrClosed.
func (c *Conn) deadline(op string, err error) error {
	if err == nil {
		return nil
	}
	if c.p.isClosed() {
		err = net.ErrClosed
	}
	return c.opError(op, err)
}

func (c *Conn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}

// A Listener is a traced listening socket as a net.Listener.
type Listener struct {
	s *Socket
	p *poller
	// ConnPeer, if set, gives each accepted connection the peer its calls
	// are traced through (a server's goroutine per connection traces as a
	// peer of its own, "server-1", "server-2", …); else they are traced
	// through the listener's peer.
	ConnPeer func() *trace.Peer
}

var _ net.Listener = (*Listener)(nil)

// NewListener makes a listening socket a net.Listener: it sets O_NONBLOCK
// (traced) and hands a duplicate of the descriptor to the runtime's poller.
// The Listener owns s from then on.
func NewListener(s *Socket) (*Listener, error) {
	p, err := newPoller(s)
	if err != nil {
		return nil, err
	}
	return &Listener{s: s, p: p}, nil
}

// Listen creates a TCP socket, binds it to addr, listens, asks the kernel
// which address it got (a port of 0 is chosen by the kernel) and returns it
// as a net.Listener: socket, bind, listen, getsockname, fcntl, all traced
// through p.
func Listen(p *trace.Peer, addr netip.AddrPort, backlog int) (*Listener, error) {
	s, err := Create(p, addr.Addr().Is6())
	if err != nil {
		return nil, err
	}
	err = s.Bind(addr)
	if err == nil {
		err = s.Listen(backlog)
	}
	if err == nil {
		_, err = s.LocalAddr()
	}
	var l *Listener
	if err == nil {
		l, err = NewListener(s)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return l, nil
}

// Accept waits for a connection: one traced accept(2) per try, then the
// new socket's own fcntl(O_NONBLOCK).
func (l *Listener) Accept() (net.Conn, error) {
	if !l.p.enter() {
		return nil, l.opError(net.ErrClosed)
	}
	defer l.p.leave()
	var conn *Socket
	err, pollErr := l.p.wait(false, func() (err error) {
		conn, err = l.s.Accept(context.Background())
		return err
	})
	switch {
	case pollErr != nil:
		return nil, l.opError(pollErr)
	case err != nil:
		return nil, l.opError(unwrapCall(err))
	}
	if l.ConnPeer != nil {
		conn.SetPeer(l.ConnPeer())
	}
	c, err := NewConn(conn)
	if err != nil {
		conn.Close()
		return nil, l.opError(unwrapCall(err))
	}
	return c, nil
}

// Close wakes a waiting Accept and closes the listening socket: one traced
// close(2).
func (l *Listener) Close() error {
	if err := l.p.close(l.s); err != nil {
		return l.opError(unwrapCall(err))
	}
	return nil
}

// Addr returns the address the kernel gave the listening socket.
func (l *Listener) Addr() net.Addr { return tcpAddr(l.s.local) }

func (l *Listener) opError(err error) error {
	return &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: err}
}

// Dial creates a TCP socket and connects it to addr, then returns it as a
// net.Conn: socket, connect, getsockname, fcntl, all traced through p. The
// connect blocks (the descriptor is made non-blocking only after it), and
// ctx interrupts it.
func Dial(ctx context.Context, p *trace.Peer, addr netip.AddrPort) (*Conn, error) {
	s, err := Create(p, addr.Addr().Is6())
	if err != nil {
		return nil, err
	}
	err = s.Connect(ctx, addr)
	if err == nil {
		_, err = s.LocalAddr()
	}
	var c *Conn
	if err == nil {
		c, err = NewConn(s)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return c, nil
}

// unwrapCall returns the syscall's own error inside a *CallError, so that
// callers of a net.Conn can test it with errors.Is as they would Go's own
// (syscall.ECONNRESET, …); other errors are returned as they are.
func unwrapCall(err error) error {
	var ce *CallError
	if errors.As(err, &ce) {
		return ce.Err
	}
	return err
}

func tcpAddr(s string) net.Addr {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return &net.TCPAddr{}
	}
	return net.TCPAddrFromAddrPort(ap)
}
