package main

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/socklab/socklab/internal/waitnote"
	"github.com/socklab/socklab/lessons"
	"github.com/socklab/socklab/trace"
)

// runServer runs `socklab server`.
func runServer(ctx context.Context, args []string, e *env) error {
	c := newCommand(e, "server", "usage.synopsis.server")
	c.traceFlags()
	var addrFlag, reply string
	var forever bool
	reuse := true
	readTimeout := lessons.DefaultReadTimeout
	c.stringFlag(&addrFlag, "addr", "HOST:PORT", "127.0.0.1:1234", "flag.addr.server")
	c.stringFlag(&reply, "reply", "TEXT", "", "flag.reply.server")
	c.boolFlag(&forever, "forever", "flag.forever")
	c.fs.BoolVar(&reuse, "reuseaddr", true, "flag.reuseaddr")
	c.help["reuseaddr"] = helpText{key: "flag.reuseaddr"}
	c.durationFlag(&readTimeout, "read-timeout", "flag.read_timeout")
	c.stringFlag(&c.clock, "clock", "run|day", "run", "flag.clock")
	if _, err := c.parse(args, 0); err != nil {
		return ignoreHelp(err)
	}
	spec, err := parseAddr(addrFlag, true)
	if err != nil {
		return err
	}
	replyGiven := flagGiven(c.fs, "reply")
	if replyGiven && reply == "" {
		return usage("hint.reply_empty", "err.reply_empty")
	}
	if readTimeout <= 0 || readTimeout > maxTimeout {
		return durationOutOfRange("read-timeout", readTimeout)
	}
	readTimeout, waiting := c.patience(readTimeout, "message")
	addr, s, input, err := c.peerSetup(ctx, spec)
	if err != nil {
		return err
	}
	err = lessons.Server(ctx, s.tr.Peer("server", trace.Server), lessons.ServerConfig{
		Addr:           addr,
		Forever:        forever,
		ReuseAddr:      reuse,
		ReadTimeout:    readTimeout,
		WaitingForPeer: waiting,
		// A reply typed by a person may come after the client has gone:
		// say so, rather than end as if it had been read.
		ConfirmDelivery: true,
		Listening: func(bound netip.AddrPort) {
			if !bound.Addr().IsLoopback() { // said once it is true: the socket listens
				e.warn("warn.public", bound)
			}
		},
		Reply: func(ctx context.Context, _ []byte) (string, error) {
			if replyGiven {
				return reply, nil
			}
			return input.ReadText(ctx, e.lang, "prompt.reply", "what.reply")
		},
		ClientFailed: func(err error) {
			e.printError(e.lang.T("warn.client_failed", say(e.lang, err)))
		},
	})
	if errors.Is(err, lessons.ErrReplyUndelivered) && replyGiven {
		// No person typed it: the client closed without reading.
		err = failure("hint.reply_undelivered.flag", "err.reply_undelivered")
	}
	return s.done(err)
}

// runClient runs `socklab client`.
func runClient(ctx context.Context, args []string, e *env) error {
	c := newCommand(e, "client", "usage.synopsis.client")
	c.traceFlags()
	var addrFlag, message string
	timeout := lessons.DefaultConnectTimeout
	readTimeout := lessons.DefaultReadTimeout
	c.stringFlag(&addrFlag, "addr", "HOST:PORT", "127.0.0.1:1234", "flag.addr.client")
	c.stringFlag(&message, "message", "TEXT", "", "flag.message.client")
	c.durationFlag(&timeout, "timeout", "flag.timeout")
	c.durationFlag(&readTimeout, "read-timeout", "flag.read_timeout")
	c.stringFlag(&c.clock, "clock", "run|day", "run", "flag.clock")
	if _, err := c.parse(args, 0); err != nil {
		return ignoreHelp(err)
	}
	spec, err := parseAddr(addrFlag, false)
	if err != nil {
		return err
	}
	if timeout <= 0 || timeout > maxTimeout {
		return durationOutOfRange("timeout", timeout)
	}
	if readTimeout <= 0 || readTimeout > maxTimeout {
		return durationOutOfRange("read-timeout", readTimeout)
	}
	messageGiven := flagGiven(c.fs, "message")
	if messageGiven && message == "" {
		return usage("hint.message_empty", "err.message_empty")
	}
	readTimeout, waiting := c.patience(readTimeout, "reply")
	addr, s, input, err := c.peerSetup(ctx, spec)
	if err != nil {
		return err
	}
	err = lessons.Client(ctx, s.tr.Peer("client", trace.Client), lessons.ClientConfig{
		Addr:           addr,
		ConnectTimeout: timeout,
		ReadTimeout:    readTimeout,
		WaitingForPeer: waiting,
		Message: func(ctx context.Context) (string, error) {
			if messageGiven {
				return message, nil
			}
			return input.ReadText(ctx, e.lang, "prompt.message", "what.message")
		},
	})
	return s.done(err)
}

// durationOutOfRange is the usage error of a duration flag that is zero or
// negative, or longer than maxTimeout.
func durationOutOfRange(flag string, d time.Duration) error {
	if d > maxTimeout {
		return usage("hint.duration_max", "err.duration_max", flag, d, maxTimeout).withHintArgs(flag)
	}
	return usage("hint.duration_positive", "err.duration_positive", flag, d).withHintArgs(flag)
}

// maxTimeout bounds --timeout and --read-timeout: a day is more than any
// wait a lesson needs; past it, the number is a typo.
const maxTimeout = 24 * time.Hour

// patience decides how long server and client wait for the other side to
// say something. With a person at this terminal, the two-terminal lesson
// has a person at the other too, typing: then there is no time limit
// (Ctrl-C ends the wait), unless --read-timeout sets one, and the person
// is told that socklab waits, and for how long. Without one, timeout
// applies: a machine must never wait for ever.
func (c *command) patience(timeout time.Duration, what string) (time.Duration, func() (done func())) {
	if !c.env.stdinTerminal || flagGiven(c.fs, "read-timeout") {
		return timeout, nil
	}
	return lessons.NoReadTimeout, func() (done func()) {
		// c.env.stderr is read here, not before: once the trace is
		// queued, it is the writer that lets the trace's lines out first.
		c.env.warn("wait." + what)
		return waitnote.Every(waitingEvery, func(d time.Duration) { c.env.warn("wait.still", c.env.lang.T("what."+what), d) })
	}
}

// waitingEvery is how often a wait with no time limit says how long it
// has waited so far.
const waitingEvery = 15 * time.Second

// peerSetup does what server and client both do once their flags are
// read: open the session, resolve the address, and start the tracer, with
// a conductor if --step or --delay asked for one, and the reader of typed
// texts. The caller ends with the session's done.
func (c *command) peerSetup(ctx context.Context, spec addrSpec) (netip.AddrPort, *session, *lineReader, error) {
	if c.clock != "run" && c.clock != "day" {
		return netip.AddrPort{}, nil, nil, usage("hint.clock", "err.clock", c.clock)
	}
	s, err := c.openSession()
	if err != nil {
		return netip.AddrPort{}, nil, nil, err
	}
	addr, err := resolve(ctx, spec)
	if err != nil {
		s.Close()
		return netip.AddrPort{}, nil, nil, err
	}
	input := newLineReader(c.env.stdin, c.env.stderr, c.env.stdinTerminal) // after the queue: its prompts flush it
	gate, err := c.gate(ctx, nil, input)
	if err != nil {
		s.Close()
		return netip.AddrPort{}, nil, nil, err
	}
	if s.start(gate, true); c.clock == "day" { // both terminals stamp since local midnight: a read never before its write
		y, m, d := time.Now().Date()
		s.tr.SetEpoch(time.Date(y, m, d, 0, 0, 0, 0, time.Local))
	}
	return addr, s, input, nil
}
