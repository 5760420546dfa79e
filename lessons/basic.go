package lessons

import (
	"cmp"
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/sock"
)

var basic = Lesson{
	Name:    "basic",
	Summary: summary("basic"),
	Run:     runBasic,
	Uses:    []string{"message", "reply"},
	Script:  elevenSteps,
	Expect:  elevenStepsExpected,
}

// elevenSteps is the teaching order of the basic exchange (and of ipv6,
// the same calls): the story as elevenStepsExpected tells it (expect.go),
// one turn for each of its calls. Steps 7 and 8 are not turns: they are
// calls returning, which happens when the kernel is done, and that is the
// lesson of 5 to 8: connect returns (7) as soon as the handshake is over,
// before the server's accept has even begun (6).
var elevenSteps = elevenStepsExpected.Script()

// The basic lesson is the classic exchange: the [Server] and the [Client]
// (below, where each step is explained) run at the same time, as two
// programs would. The only thing they share is the server's address, which
// the client needs before it can connect.
func runBasic(ctx context.Context, tr *trace.Tracer, opts Options) error {
	// Port 0: the kernel chooses a free port, so runs never collide.
	return serverAndClient(ctx, tr, opts, loopback4)
}

// serverAndClient runs Server on addr and Client against it, side by side.
func serverAndClient(ctx context.Context, tr *trace.Tracer, opts Options, addr netip.AddrPort) error {
	if err := opts.check(); err != nil {
		return err
	}
	ready := make(chan netip.AddrPort, 1)
	server, client := tr.Peer("server", trace.Server), tr.Peer("client", trace.Client)
	return runPeers(ctx, tr,
		func(ctx context.Context) error {
			defer close(ready) // the client stops waiting if the server fails early
			return Server(ctx, server, ServerConfig{
				Addr:      addr,
				Listening: func(addr netip.AddrPort) { ready <- addr },
				Reply:     func(context.Context, []byte) (string, error) { return opts.reply(), nil },
			})
		},
		func(ctx context.Context) error {
			// The client waits until the server listens: connecting any
			// earlier would be refused.
			defer client.Done() // if it never starts, no one waits for its turns
			addr, ok := <-ready
			if !ok {
				return errPeerFailed // the server never got to listen
			}
			return Client(ctx, client, ClientConfig{
				Addr:    addr,
				Message: func(context.Context) (string, error) { return opts.message(), nil },
			})
		},
	)
}

// The server and the client of the classic exchange. The basic lesson runs
// them side by side; `socklab server` and `socklab client` run each one as
// its own program, in two terminals, where either may meet any TCP peer
// (nc, telnet, a Python script) and has to survive it. Their time limits
// are in timelimits.go, the errors they return in peererrors.go.

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
