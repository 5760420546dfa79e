// Package lessons holds socklab's lessons: each one a real scenario on real
// sockets, written to be read like Go by Example, that calls only traced
// socket methods (package trace/sock) and never prints. Whoever runs a lesson
// chooses the sinks its events go to.
//
// Each lesson lives in a file named after it (basic.go, backlog.go, …) and
// reads top to bottom, a sentence above each step saying why; basic.go also
// holds [Server] and [Client], which `socklab server` and `socklab client`
// run as two programs. What several lessons share sits in files named for
// what it does: loopback.go (the first steps, on loopback), announce.go
// (telling clients where the server listens), exchange.go (writing,
// reading, echoing), timelimits.go, peererrors.go, story.go, expect.go
// (the stories socklab trace --expect checks, and the --step scripts they
// give), httpserver.go (the HTTP server and clients the http and websocket
// lessons run on traced sockets) and traffic.go (the table of what their
// writes carried). docs/adding-a-lesson.md lists every place a lesson
// lives.
package lessons

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/i18n"
)

// A Lesson is one scenario.
type Lesson struct {
	Name string
	// Summary is the lesson's one line, for `socklab list` and its page's
	// title: the catalogue's (trace/i18n, key lesson.NAME), in English.
	Summary string
	// Run plays the lesson, tracing every call through tr. It returns nil
	// when the lesson's story happened.
	Run func(ctx context.Context, tr *trace.Tracer, opts Options) error
	// Uses names the options the lesson reads ("message", "reply",
	// "clients"); the command refuses the others, so that no flag is
	// silently ignored.
	Uses []string
	// Script is the lesson's teaching order: the calls a trace.Conductor
	// gives their turns to, one at a time, in this order (--step, --delay).
	Script []trace.Point
	// Preview, when set, is how many bytes of its data a line shows by
	// default: the lessons that teach a protocol's headers show them whole
	// (a 101 response cut at 64 bytes hid Sec-WebSocket-Accept).
	Preview int
	// Traffic, for the lessons that carry a protocol (http, websocket),
	// measures from a run's events the bytes their writes handed the
	// kernel, message by message (a TrafficTable; not a packet capture).
	// Whoever runs the lesson records the events and shows the table.
	Traffic func(events []trace.Event) (TrafficTable, error)
	// Expect, for the lessons any program can follow, is the story
	// `socklab trace --expect` checks a program against; nil for the rest.
	Expect *Expectation
}

// summary is the Summary of the lesson called name: the catalogue holds
// it, in every language, under lesson.NAME.
func summary(name string) string { return i18n.EN.T("lesson." + name) }

// Options are what a user may change in a lesson. The zero value gives the
// defaults.
type Options struct {
	Message string // what the client sends; "" means DefaultMessage
	Reply   string // what the server answers; "" means DefaultReply
	Clients int    // how many clients the lessons with several run; 0 means DefaultClients
}

// DefaultClients is how many clients concurrent and backlog run.
const DefaultClients = 3

func (o Options) clients() int {
	if o.Clients <= 0 {
		return DefaultClients
	}
	return o.Clients
}

// The default texts are Chinese and English on purpose: bytes are bytes, and
// UTF-8 text survives the trip intact.
const (
	DefaultMessage = "你好, server"
	DefaultReply   = "你好, client! got it"
)

// ReadBuffer is the size of the buffer the lessons read into, as in the
// classic lesson's recv(1024).
const ReadBuffer = 1024

// An OptionError is what a lesson returns, before making any socket, when
// a text is larger than the read buffer.
type OptionError struct {
	Option string // "message" or "reply"
	Bytes  int    // its size
}

func (e *OptionError) Error() string {
	return fmt.Sprintf("the %s is %d bytes, more than the %d-byte read buffer; shorten it", e.Option, e.Bytes, ReadBuffer)
}

func (o Options) message() string {
	if o.Message == "" {
		return DefaultMessage
	}
	return o.Message
}

func (o Options) reply() string {
	if o.Reply == "" {
		return DefaultReply
	}
	return o.Reply
}

// check rejects texts the one-read lessons cannot carry faithfully.
func (o Options) check() error {
	for _, t := range []struct{ name, text string }{{"message", o.message()}, {"reply", o.reply()}} {
		if len(t.text) > ReadBuffer {
			return &OptionError{Option: t.name, Bytes: len(t.text)}
		}
	}
	return nil
}

// A TooManyClientsError says that a lesson cannot run that many clients.
type TooManyClientsError struct{ Max int }

func (e *TooManyClientsError) Error() string {
	return fmt.Sprintf("this lesson runs at most %d clients", e.Max)
}

// All returns every lesson, in teaching order.
func All() []Lesson {
	return []Lesson{basic, echo, stream, halfclose, concurrent, nonblocking, epollLesson, backlogLesson, refused, addrinuse, timewait, reset, timeout, udp, unixLesson, ipv6, gonet, httpLesson, websocketLesson}
}

// Lookup returns the lesson with this name.
func Lookup(name string) (Lesson, bool) {
	for _, l := range All() {
		if l.Name == name {
			return l, true
		}
	}
	return Lesson{}, false
}

// errPeerFailed is the cause given to one peer when the other failed, so
// that a blocked call is woken instead of waiting for a partner that is gone.
var errPeerFailed error = reasonError{"peer-failed", "the other peer failed"}

// reasonError is a context cause with a code for the trace (sock.Reasoner).
type reasonError struct{ reason, text string }

func (e reasonError) Error() string  { return e.text }
func (e reasonError) Reason() string { return e.reason }

// runPeers runs the peers concurrently and waits for all of them. When one
// fails, the others are interrupted; the error returned is the first real
// one, not the interruptions it caused. The run is watched for stalls
// (trace.Tracer.WatchStalls): peers that wait for each other fail in a
// second with a *trace.StallError saying who waits in what, and a script
// the peers left fails with the conductor's *trace.DivergenceError.
func runPeers(ctx context.Context, tr *trace.Tracer, peers ...func(ctx context.Context) error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx) // interrupted before any socket was made
	}
	ctx, stopWatch := tr.WatchStalls(ctx)
	defer stopWatch()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	errs := make([]error, len(peers))
	var wg sync.WaitGroup
	for i, peer := range peers {
		wg.Go(func() {
			if err := peer(ctx); err != nil {
				errs[i] = err
				// The conductor stops first, before the other peers are
				// woken: the closes that follow then neither wait for a
				// person nor look like the peers leaving the script.
				tr.StopGate(err)
				cancel(errPeerFailed)
			}
		})
	}
	wg.Wait()
	var rest []error
	// The gate's error is the first cause: a divergence only if it came
	// before any failure (maybe only closes were left then, which pass,
	// so that no peer failed).
	if diverged := (*trace.DivergenceError)(nil); errors.As(tr.GateErr(), &diverged) {
		return diverged
	}
	for _, err := range errs {
		// One sentence says it all when the run stalled (a divergence
		// is the gate's, above): each peer's error followed from it.
		var stall *trace.StallError
		switch {
		case errors.As(err, &stall):
			return stall
		case err != nil && !errors.Is(err, errPeerFailed):
			rest = append(rest, err)
		}
	}
	return errors.Join(rest...)
}
