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

// The server and the client below are the two halves of the basic lesson as
// separate programs, for `socklab server` and `socklab client` in two
// terminals: either half works with any TCP peer (nc, telnet, a Python
// script). They differ from the lesson where a real peer can misbehave.

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

// ErrPeerClosed is wrapped by the error of a peer whose partner closed the
// connection before the exchange was over.
var ErrPeerClosed = errors.New("the peer closed the connection")

// Server listens on cfg.Addr, accepts a client, reads its message, replies,
// and closes: the server's half of the 11 steps, as its own program.
func Server(ctx context.Context, p *trace.Peer, cfg ServerConfig) error {
	// Step 1: a socket, IPv6 if the address is.
	listener, err := sock.Create(p, cfg.Addr.Addr().Is6())
	if err != nil {
		return err
	}
	defer listener.Close()

	// Step 2: the address a teacher tells the class, 127.0.0.1:1234 by
	// default. No SO_REUSEADDR, as in the classic lesson: if a recent
	// connection on this port is still in TIME_WAIT, bind fails with
	// EADDRINUSE, and the trace shows why.
	if err := listener.Bind(cfg.Addr); err != nil {
		return err
	}
	addr, err := listener.LocalAddr()
	if err != nil {
		return err
	}

	// Step 3: listen.
	if err := listener.Listen(backlog); err != nil {
		return err
	}
	if cfg.Listening != nil {
		cfg.Listening(addr)
	}

	for {
		err := serveOne(ctx, listener, cfg)
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

// serveOne accepts one client and has the exchange with it.
func serveOne(ctx context.Context, listener *sock.Socket, cfg ServerConfig) error {
	// Steps 6 and 8: wait for a client; accept returns a new socket.
	conn, err := listener.Accept(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()

	// Step 10: the client's message, up to one buffer. A longer message
	// arrives in more reads; the trace says when a read filled the buffer.
	buf := make([]byte, ReadBuffer)
	n, err := conn.Read(ctx, buf)
	if err != nil {
		return &exchangeError{err}
	}
	if n == 0 {
		return &exchangeError{fmt.Errorf("%w before sending anything", ErrPeerClosed)}
	}

	// Step 9: the reply. If nobody can give one (standard input closed),
	// the server stops: there is no point accepting more clients.
	reply, err := cfg.Reply(ctx, buf[:n])
	if err != nil {
		return err
	}
	if err := writeAll(ctx, conn, []byte(reply)); err != nil {
		return &exchangeError{err}
	}

	// Step 10 again: wait a moment for the client to close first (read
	// returns 0), so that the TIME_WAIT lands on the client and this port
	// is free for the next run. A client that keeps the connection open
	// (nc without -N) is cut off after CloseWait.
	if err := drainUntilEOF(ctx, conn, buf, cmp.Or(cfg.CloseWait, DefaultCloseWait)); err != nil {
		return &exchangeError{err}
	}

	// Step 11.
	return conn.Close()
}

// exchangeError is an error of one client's exchange, after accept: in
// Forever mode, the server survives it.
type exchangeError struct{ err error }

func (e *exchangeError) Error() string { return e.err.Error() }
func (e *exchangeError) Unwrap() error { return e.err }

// errCloseWaitOver is the cause of a drain that timed out.
var errCloseWaitOver = errors.New("the client did not close in time")

// drainUntilEOF reads until the peer closes, for at most wait. Bytes that
// still arrive are traced, like all bytes. A timeout is not an error: the
// server then closes first.
func drainUntilEOF(ctx context.Context, conn *sock.Socket, buf []byte, wait time.Duration) error {
	ctx, cancel := context.WithTimeoutCause(ctx, wait, errCloseWaitOver)
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
}

// DefaultConnectTimeout is how long a client waits for the handshake.
const DefaultConnectTimeout = 10 * time.Second

// ErrConnectTimeout is wrapped by the error of a connect that timed out.
var ErrConnectTimeout = errors.New("connect timed out")

// Client connects to cfg.Addr, sends a message, reads the reply and closes:
// the client's half of the 11 steps, as its own program.
func Client(ctx context.Context, p *trace.Peer, cfg ClientConfig) error {
	// Step 4.
	s, err := sock.Create(p, cfg.Addr.Addr().Is6())
	if err != nil {
		return err
	}
	defer s.Close()

	// Steps 5 and 7, bounded: a server that never answers the SYN (a full
	// backlog, a firewall that drops) would keep connect waiting for
	// minutes.
	timeout := cmp.Or(cfg.ConnectTimeout, DefaultConnectTimeout)
	connectCtx, cancel := context.WithTimeoutCause(ctx, timeout, ErrConnectTimeout)
	err = s.Connect(connectCtx, cfg.Addr)
	cancel()
	if errors.Is(err, ErrConnectTimeout) {
		return fmt.Errorf("connect %s: no answer within %v: %w", cfg.Addr, timeout, ErrConnectTimeout)
	}
	if err != nil {
		return err
	}
	// The port connect chose for us.
	if _, err := s.LocalAddr(); err != nil {
		return err
	}

	message, err := cfg.Message(ctx)
	if err != nil {
		return err
	}

	// Step 9.
	if err := writeAll(ctx, s, []byte(message)); err != nil {
		return err
	}

	// Step 10: one read, as the classic client does: the reply if it fits
	// the buffer, its first part if not (the trace says so).
	buf := make([]byte, ReadBuffer)
	n, err := s.Read(ctx, buf)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w without replying", ErrPeerClosed)
	}

	// Step 11: the client closes first.
	return s.Close()
}
