package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"syscall"
	"time"

	"github.com/socklab/socklab/lessons"
	"github.com/socklab/socklab/trace"
)

const serverSynopsis = `Be the server of the classic lesson: create, bind, listen, accept one client,
read its message, reply, close. Any TCP client will do: socklab client in
another terminal, nc 127.0.0.1 1234, telnet, a Python script. The reply comes
from --reply, else from a prompt (on a terminal), else from one line of
standard input.`

const clientSynopsis = `Be the client of the classic lesson: create, connect, send a message, read
the reply, close. Any TCP server will do: socklab server in another terminal,
nc -l 1234, a Python script. The message comes from --message, else from a
prompt (on a terminal), else from one line of standard input.`

// runServer runs `socklab server`.
func runServer(ctx context.Context, args []string, e env) error {
	c := newCommand("server [flags]", serverSynopsis)
	var addrFlag, reply string
	var forever bool
	c.stringFlag(&addrFlag, "addr", "HOST:PORT", "127.0.0.1:1234", "where to listen (default 127.0.0.1:1234, this machine only; port 0 lets the kernel choose)")
	c.stringFlag(&reply, "reply", "TEXT", "", "what to reply to each client (default: ask)")
	c.fs.BoolVar(&forever, "forever", false, "serve clients one after another until Ctrl-C")
	if _, err := c.parse(args, 0, e.stdout); err != nil {
		return ignoreHelp(err)
	}
	spec, err := parseAddr(addrFlag, true)
	if err != nil {
		return err
	}
	replyGiven := flagGiven(c, "reply")
	if replyGiven && reply == "" {
		return usagef("give the server something to reply", "--reply is empty: an empty reply sends no bytes")
	}
	sink, err := c.sink(e)
	if err != nil {
		return err
	}
	addr, err := spec.resolve(ctx)
	if err != nil {
		return err
	}
	if !addr.Addr().IsLoopback() {
		fmt.Fprintf(e.stderr, "socklab: warning: listening on %s: other machines on the network can connect to this server\n", addr)
	}

	input := newLineReader(e.stdin, e.stderr, e.stdinTerminal)
	tr := trace.New(sink).SetKernelState(true)
	err = lessons.Server(ctx, tr.Peer("server", trace.Server), lessons.ServerConfig{
		Addr:    addr,
		Forever: forever,
		Reply: func(ctx context.Context, _ []byte) (string, error) {
			if replyGiven {
				return reply, nil
			}
			return input.text(ctx, "reply to the client> ", "reply")
		},
		ClientFailed: func(err error) {
			fmt.Fprintf(e.stderr, "socklab: that client's exchange failed: %s; waiting for the next client\n", errorLine(err))
		},
	})
	return traceDone(tr, err)
}

// runClient runs `socklab client`.
func runClient(ctx context.Context, args []string, e env) error {
	c := newCommand("client [flags]", clientSynopsis)
	var addrFlag, message string
	var timeout time.Duration
	c.stringFlag(&addrFlag, "addr", "HOST:PORT", "127.0.0.1:1234", "the server to connect to (default 127.0.0.1:1234)")
	c.stringFlag(&message, "message", "TEXT", "", "what to send (default: ask)")
	timeout = lessons.DefaultConnectTimeout
	c.fs.Func("timeout", "how long connect may wait for the handshake (default 10s)", func(s string) error {
		d, err := time.ParseDuration(s)
		if err != nil {
			return errors.New("write a duration, like 10s or 500ms")
		}
		timeout = d
		return nil
	})
	c.values["timeout"] = "DURATION"
	if _, err := c.parse(args, 0, e.stdout); err != nil {
		return ignoreHelp(err)
	}
	spec, err := parseAddr(addrFlag, false)
	if err != nil {
		return err
	}
	if timeout <= 0 {
		return usagef("use a positive duration, like --timeout=10s", "--timeout %v is not positive", timeout)
	}
	messageGiven := flagGiven(c, "message")
	if messageGiven && message == "" {
		return usagef("give the client something to say", "--message is empty: an empty message sends no bytes")
	}
	sink, err := c.sink(e)
	if err != nil {
		return err
	}
	addr, err := spec.resolve(ctx)
	if err != nil {
		return err
	}

	input := newLineReader(e.stdin, e.stderr, e.stdinTerminal)
	tr := trace.New(sink).SetKernelState(true)
	err = lessons.Client(ctx, tr.Peer("client", trace.Client), lessons.ClientConfig{
		Addr:           addr,
		ConnectTimeout: timeout,
		Message: func(ctx context.Context) (string, error) {
			if messageGiven {
				return message, nil
			}
			return input.text(ctx, "message to send> ", "message")
		},
	})
	return traceDone(tr, err)
}

// text reads a text to send. On a terminal an empty line asks again; from a
// pipe it is an error, as there is nobody to ask.
func (r *lineReader) text(ctx context.Context, prompt, what string) (string, error) {
	for {
		line, err := r.readLine(ctx, prompt)
		if errors.Is(err, errInputClosed) {
			return "", fmt.Errorf("%w before a %s was given, so the connection was closed", errInputClosed, what)
		}
		if err != nil {
			return "", err
		}
		if line != "" {
			return line, nil
		}
		if !r.terminal {
			return "", fmt.Errorf("the %s read from standard input is empty: an empty write sends no bytes", what)
		}
	}
}

func flagGiven(c *command, name string) bool {
	given := false
	c.fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			given = true
		}
	})
	return given
}

// ignoreHelp turns a request for help, already answered, into success.
func ignoreHelp(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// hintFor says what to try after an error, when we know.
func hintFor(err error) string {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return "another program listens on this port, or a connection that just closed on it is in TIME_WAIT (about a minute); choose another port (--addr 127.0.0.1:0 lets the kernel choose) or wait"
	case errors.Is(err, syscall.EACCES):
		return "ports below 1024 need root (or CAP_NET_BIND_SERVICE); use a port from 1024 up, like 1234"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "that address is not one of this machine's; use 127.0.0.1, or 0.0.0.0 for every interface"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "nobody listens there: start the server first (socklab server), or check --addr"
	case errors.Is(err, lessons.ErrConnectTimeout):
		return "the server did not answer the handshake (its backlog may be full, or a firewall drops the SYN); try again, or raise --timeout"
	case errors.Is(err, syscall.ECONNRESET):
		return "the peer aborted the connection (it closed with unread data, or with SO_LINGER 0)"
	case errors.Is(err, syscall.EPIPE):
		return "the peer had already closed the connection"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "this machine has no route to that address; check --addr"
	case errors.Is(err, errInputClosed):
		return "give the text with a flag, or pipe a line in"
	}
	return ""
}
