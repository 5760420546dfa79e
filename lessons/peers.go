package lessons

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/sock"
)

// The server and the client of the classic exchange. The basic lesson runs
// them side by side; `socklab server` and `socklab client` run each one as
// its own program, in two terminals, where either may meet any TCP peer
// (nc, telnet, a Python script) and has to survive it.

// ServerConfig configures [Server].
type ServerConfig struct {
	// Addr is where the server listens; port 0 lets the kernel choose.
	Addr netip.AddrPort
	// Reply returns the answer to a client's message. It may ask a person,
	// so it takes the context that Ctrl-C cancels.
	Reply func(ctx context.Context, message []byte) (string, error)
	// Forever keeps accepting clients, one after another, until ctx is done.
	Forever bool
	// CloseWait is how long the server waits, after replying, for the
	// client to close first; 0 means DefaultCloseWait.
	CloseWait time.Duration
	// ReuseAddr sets SO_REUSEADDR before bind, as servers usually do: the
	// port can then be bound again at once, even while connections that
	// used it wait in TIME_WAIT.
	ReuseAddr bool
	// ReadTimeout bounds the wait for a client's message; 0 means
	// DefaultReadTimeout. A silent client must not hold the server (and,
	// with Forever, every client after it) for ever. NoReadTimeout waits
	// as long as it takes: the message may be typed by a person, and
	// Ctrl-C (ctx) ends the wait.
	ReadTimeout time.Duration
	// WaitingForPeer, if set, is called when a read with no time limit
	// starts to wait for the client, and done when it returns: the command
	// tells the person at the terminal that it waits, and for how long.
	WaitingForPeer func() (done func())
	// ConfirmDelivery makes the server wait, after writing the reply,
	// until the client's kernel has acknowledged it (a moment on any
	// network): a reply typed by a person may come after the client has
	// gone, and its kernel then answers with RST. The server then fails
	// with ErrReplyUndelivered instead of closing as if all was well.
	ConfirmDelivery bool
	// Listening, if set, is called with the address once the socket listens.
	Listening func(netip.AddrPort)
	// ClientFailed, if set, is called in Forever mode with the error of an
	// exchange that went wrong (the client closed early, reset, …); the
	// server then goes on to the next client. Without it, or without
	// Forever, such an error ends the server.
	ClientFailed func(error)
}

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

// backlog is how many finished handshakes the kernel queues for a listening
// socket before accept takes them; 128 is Python's default for listen().
const backlog = 128

// ErrPeerClosed is wrapped by the error of a peer whose partner closed the
// connection before the exchange was over; ErrClosedBeforeSending and
// ErrClosedWithoutReply say when.
var (
	ErrPeerClosed          = errors.New("the peer closed the connection")
	ErrClosedBeforeSending = fmt.Errorf("%w before sending anything", ErrPeerClosed)
	ErrClosedWithoutReply  = fmt.Errorf("%w without replying", ErrPeerClosed)
)

// Server is the server's half of the 11 steps: it listens on cfg.Addr,
// accepts a client, reads its message, replies, and closes.
func Server(ctx context.Context, p *trace.Peer, cfg ServerConfig) error {
	defer p.Done()
	// Step 1. Ask the kernel for a TCP socket (IPv6 if the address is).
	// So far it is only a file descriptor: no address, no port, no
	// connection.
	listener, err := sock.Create(p, cfg.Addr.Addr().Is6())
	if err != nil {
		return err
	}
	// Whatever goes wrong below, the socket is closed (and the close traced).
	defer listener.Close()

	// Not a step: SO_REUSEADDR lets the server bind its port again at once
	// after a run, even while old connections on it wait in TIME_WAIT
	// (lesson addrinuse shows what happens without it).
	if cfg.ReuseAddr {
		if err := listener.SetReuseAddr(true); err != nil {
			return err
		}
	}

	// Step 2. Bind it to an address: 127.0.0.1, so that only this machine
	// can reach it, unless the user named another. Port 0 asks the kernel
	// to choose a free port. Without SO_REUSEADDR, if a connection on this
	// port that just closed is still in TIME_WAIT, bind fails with
	// EADDRINUSE (lesson addrinuse).
	if err := listener.Bind(cfg.Addr); err != nil {
		return err
	}
	// getsockname tells which port the kernel chose, if it chose.
	addr, err := listener.LocalAddr()
	if err != nil {
		return err
	}

	// Step 3. Listen. From now on the kernel itself answers clients'
	// handshakes and queues finished connections, up to backlog of them.
	if err := listener.Listen(backlog); err != nil {
		return err
	}
	if cfg.Listening != nil {
		cfg.Listening(addr)
	}

	for {
		err := serveOne(ctx, listener, addr, cfg)
		var exchange *exchangeError
		switch {
		case err == nil:
		case cfg.Forever && cfg.ClientFailed != nil && errors.As(err, &exchange) && ctx.Err() == nil:
			cfg.ClientFailed(exchange.err)
		default:
			return err
		}
		if !cfg.Forever {
			break
		}
	}
	// Step 11 for the listening socket.
	return listener.Close()
}

// serveOne accepts one client and has the exchange with it; addr is where
// the server listens.
func serveOne(ctx context.Context, listener *sock.Socket, addr netip.AddrPort, cfg ServerConfig) error {
	// Steps 6 and 8. Accept blocks until a connection is ready, then
	// returns a NEW socket for it. The listening socket goes on listening.
	conn, err := listener.Accept(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()

	// Step 10. Read blocks until bytes arrive, then returns what has come,
	// up to one buffer: a longer message takes more reads (the trace says
	// when a read filled the buffer). TCP carries bytes, not text: they
	// are UTF-8 only if the client sent UTF-8, and the trace shows
	// anything else escaped.
	buf := make([]byte, ReadBuffer)
	n, err := readWithin(ctx, conn, buf, cmp.Or(cfg.ReadTimeout, DefaultReadTimeout), cfg.WaitingForPeer)
	if err != nil {
		return &exchangeError{err}
	}
	if n == 0 {
		return &exchangeError{&ClosedEarlyError{Server: addr}}
	}

	// Step 9. Reply. Write hands the bytes to the kernel and returns; the
	// client has not read them yet. If nobody can give a reply (standard
	// input closed), the server stops: there is no point in more clients.
	reply, err := cfg.Reply(ctx, buf[:n])
	if err != nil {
		return err
	}
	if err := writeAll(ctx, conn, []byte(reply)); err != nil {
		return &exchangeError{err}
	}
	if cfg.ConfirmDelivery && conn.AwaitDelivery(ctx, deliveryWait) == sock.Reset {
		return &exchangeError{ErrReplyUndelivered}
	}

	// Step 10 again. Read until it returns 0: end of file, the client has
	// closed its side; a server learns that a client is gone only this way.
	// Letting the client close first puts its socket, not ours, in
	// TIME_WAIT, so this port is free for the next run. A client that keeps
	// the connection open (nc without -N) is cut off after CloseWait.
	if err := drainUntilEOF(ctx, conn, buf, cmp.Or(cfg.CloseWait, DefaultCloseWait)); err != nil {
		return &exchangeError{err}
	}

	// Step 11. Close the connection's socket.
	return conn.Close()
}

// deliveryWait bounds ConfirmDelivery's wait for the client's kernel to
// acknowledge the reply; past it, the server goes on without knowing.
const deliveryWait = time.Second

// ErrReplyUndelivered is the error of a server whose reply reached a
// client that had closed its socket: the client's kernel answered with
// RST, and nobody read the reply.
var ErrReplyUndelivered = errors.New("the reply was not delivered: the client had closed its connection, and its kernel answered with RST")

// A ClosedEarlyError says that a client of the server at Server closed
// the connection before sending anything. It wraps ErrClosedBeforeSending.
type ClosedEarlyError struct{ Server netip.AddrPort }

func (e *ClosedEarlyError) Error() string { return ErrClosedBeforeSending.Error() }
func (e *ClosedEarlyError) Unwrap() error { return ErrClosedBeforeSending }

// exchangeError is an error of one client's exchange, after accept: in
// Forever mode, the server survives it.
type exchangeError struct{ err error }

func (e *exchangeError) Error() string { return e.err.Error() }
func (e *exchangeError) Unwrap() error { return e.err }

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

// ClientConfig configures [Client].
type ClientConfig struct {
	Addr netip.AddrPort
	// Message returns what to send; it may ask a person.
	Message func(ctx context.Context) (string, error)
	// ConnectTimeout bounds the wait for the handshake; 0 means
	// DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// ReadTimeout bounds the wait for the reply; 0 means
	// DefaultReadTimeout, NoReadTimeout no limit (a person types the
	// reply; Ctrl-C ends the wait).
	ReadTimeout time.Duration
	// WaitingForPeer, if set, is called when a read with no time limit
	// starts to wait for the server's reply, and done when it returns.
	WaitingForPeer func() (done func())
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

// Client is the client's half of the 11 steps: it connects to cfg.Addr,
// sends a message, reads the reply and closes.
func Client(ctx context.Context, p *trace.Peer, cfg ClientConfig) error {
	defer p.Done()
	// Step 4. The client needs a socket of its own.
	s, err := sock.Create(p, cfg.Addr.Addr().Is6())
	if err != nil {
		return err
	}
	defer s.Close()

	// Steps 5 and 7. Connect sends SYN and blocks until the handshake is
	// done. It returns as soon as the server's kernel has queued the
	// connection, which can be before the server calls accept. A server
	// that never answers (a full backlog, a firewall that drops the SYN)
	// would keep it waiting for minutes, so the wait is bounded.
	timeout := cmp.Or(cfg.ConnectTimeout, DefaultConnectTimeout)
	connectCtx, cancel := p.Within(ctx, timeout, ErrConnectTimeout)
	err = s.Connect(connectCtx, cfg.Addr)
	cancel()
	if errors.Is(err, ErrConnectTimeout) {
		return &ConnectTimeoutError{Addr: cfg.Addr, Timeout: timeout}
	}
	if err != nil {
		return err
	}
	// The client never called bind: connect chose an ephemeral port for
	// it, which getsockname reveals.
	if _, err := s.LocalAddr(); err != nil {
		return err
	}

	// Step 9. Send the message.
	message, err := cfg.Message(ctx)
	if err != nil {
		return err
	}
	if err := writeAll(ctx, s, []byte(message)); err != nil {
		return err
	}

	// Step 10. Read the reply. A read that fills the buffer may have left
	// bytes behind: read again, as long as more comes within a moment, so
	// that nothing is dropped (closing with unread bytes would reset the
	// connection).
	buf := make([]byte, ReadBuffer)
	n, err := readWithin(ctx, s, buf, cmp.Or(cfg.ReadTimeout, DefaultReadTimeout), cfg.WaitingForPeer)
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrClosedWithoutReply
	}
	for n == len(buf) {
		if n, err = readWithin(ctx, s, buf, moreWait, nil); err != nil {
			if errors.Is(err, ErrReadTimeout) {
				break // nothing more came: the reply is whole
			}
			return err
		}
	}

	// Step 11. The client closes first, so it is the client's socket that
	// waits in TIME_WAIT, and the server that reads end of file.
	return s.Close()
}

// writeAll writes b with as many write calls as the kernel needs: write may
// take fewer bytes than it was given.
func writeAll(ctx context.Context, s *sock.Socket, b []byte) error {
	for len(b) > 0 {
		n, err := s.Write(ctx, b)
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}
