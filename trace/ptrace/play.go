package ptrace

import (
	"context"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/socklab/socklab/trace"
)

// Playing a server and its clients (socklab trace --server --client): the
// clients start once the server is ready for them, and once they have all
// ended the server is stopped, whatever it waits in, as a person would.

// PlayOptions configure Play.
type PlayOptions struct {
	Options // the session's; Listening, if set, is called too
	// Say, if set, is told what socklab does to the programs, each a
	// catalogue key and its arguments, for one line: "msg.trace_not_ready",
	// "msg.server_stopped" (SIGINT), "msg.server_sigterm",
	// "msg.server_sigkill".
	Say func(key string, args ...any)
	// ReadyWait bounds the clients' wait for the server to listen or bind
	// a datagram socket (3 s when 0); Idle is how long the server idles
	// after its clients have ended before SIGINT, and Grace how long each
	// signal is given before the next (1 s each when 0). Only time when no
	// person holds the server (--step) counts.
	ReadyWait, Idle, Grace time.Duration
	// QuietStdin, where set for program i, is the write end of the pipe
	// that is the program's standard input where it would have been the
	// terminal that --step's keys come from: when the program reads it,
	// socklab says so in one line ("msg.trace_stdin_step", with the
	// program's command) and closes it, so the program reads end of file
	// rather than racing the person's keys.
	QuietStdin []*os.File
}

// Played is how a run of programs ended.
type Played struct {
	// Stopped is the signal socklab stopped the server with once its
	// clients had ended (SIGINT, SIGTERM or SIGKILL), or 0.
	Stopped syscall.Signal
	// Interrupted says ctx was done first: the programs were sent SIGINT.
	Interrupted bool
	// ClientsNotStarted says the server ended before the clients could
	// start, and they were not started.
	ClientsNotStarted bool
}

// A LaunchError says which program could not start, and why.
type LaunchError struct {
	Program Program
	Err     error
}

func (e *LaunchError) Error() string { return e.Program.Argv[0] + ": " + e.Err.Error() }
func (e *LaunchError) Unwrap() error { return e.Err }

// Play starts programs under a session tracing into tr, the first the
// server and the rest its clients, and waits until every one has ended.
// The clients start once the server has listened on a stream socket or
// bound a datagram one, or after ReadyWait if it does neither. When
// ctx is done first, the programs get SIGINT, and Play waits for them.
func Play(ctx context.Context, tr *trace.Tracer, programs []Program, o PlayOptions) (*Session, Played, error) {
	ready := make(chan struct{}, 1)
	opts := o.Options
	opts.Listening = func(pid int) {
		if o.Listening != nil {
			o.Listening(pid)
		}
		select {
		case ready <- struct{}{}:
		default:
		}
	}
	session, err := Start(tr, opts)
	if err != nil {
		return nil, Played{}, &LaunchError{programs[0], err}
	}
	var played Played
	if len(o.QuietStdin) > 0 {
		// A copy: the caller closes its files when the run is over,
		// perhaps while the watch still looks at its own.
		go o.watchStdin(session, programs, slices.Clone(o.QuietStdin))
	}
	if _, err := session.Launch(programs[0]); err != nil {
		return nil, played, &LaunchError{programs[0], err}
	}
	if len(programs) > 1 {
		switch o.waitReady(ctx, session, ready) {
		case waitedTooLong:
			o.say("msg.trace_not_ready", o.readyWait().String())
		case interrupted:
			// Ctrl-C before the clients started: they never do.
			played.Interrupted = true
			session.Signal(syscall.SIGINT)
			<-session.Done()
			return session, played, nil
		}
		for _, p := range programs[1:] {
			if _, err := session.Launch(p); err != nil && session.ended() {
				// The server ended before its clients could start (its
				// bind failed, it crashed): there is nothing to start
				// them against, and the run is judged as it is.
				o.say("msg.trace_clients_not_started")
				played.ClientsNotStarted = true
				return session, played, nil
			} else if err != nil {
				session.Kill()
				<-session.Done()
				return nil, played, &LaunchError{p, err}
			}
		}
		if !played.Interrupted {
			played.Stopped = o.stopIdleServer(ctx, session, len(programs))
		}
	}
	select {
	case <-session.Done():
	case <-ctx.Done():
		// Ctrl-C at the terminal reached the programs too; a signal sent
		// to socklab alone is passed on. A second Ctrl-C kills socklab,
		// and the kernel kills the programs with it (PTRACE_O_EXITKILL).
		played.Interrupted = true
		session.Signal(syscall.SIGINT)
		<-session.Done()
	}
	return session, played, nil
}

const tick = 50 * time.Millisecond

type readiness int

const (
	isReady readiness = iota
	waitedTooLong
	interrupted
)

// waitReady waits until the server is ready, has ended, or has been
// waited for ReadyWait, time a person held it not counted.
func (o *PlayOptions) waitReady(ctx context.Context, s *Session, ready <-chan struct{}) readiness {
	t := time.NewTicker(tick)
	defer t.Stop()
	var waited time.Duration
	for {
		select {
		case <-ready:
			return isReady
		case <-s.Done():
			return isReady
		case <-ctx.Done():
			return interrupted
		case <-t.C:
		}
		if !s.Held(0) {
			waited += tick
		}
		if waited >= o.readyWait() {
			return waitedTooLong
		}
	}
}

// stopIdleServer waits for the clients to end; then a server that goes
// on waiting (in accept, poll, epoll_wait, select, recvfrom, read: a
// server that serves for ever) would keep the run going for ever. Once it
// has idled a moment, socklab sends it SIGINT, as a person would with
// Ctrl-C, then SIGTERM, then SIGKILL, a grace period apart, and says
// each. It returns the last signal sent, or 0.
func (o *PlayOptions) stopIdleServer(ctx context.Context, s *Session, n int) syscall.Signal {
	clients := make([]int, 0, n-1)
	for i := 1; i < n; i++ {
		clients = append(clients, i)
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	var idle, since time.Duration
	var sent syscall.Signal
	acted := -1
	for {
		select {
		case <-s.Done():
			return sent
		case <-ctx.Done():
			return sent
		case <-t.C:
		}
		if !s.programsEnded(clients) {
			continue
		}
		if sent == 0 {
			// A moment, so that a server about to end by itself does.
			// Idle: every thread asleep in the kernel, or no socket call
			// but waits since the last look (a server polling with a
			// timeout, whose Python runs between the polls: under load a
			// look often caught it running); never while it asks a person
			// or a person holds it.
			n := s.Acted(0)
			if s.Idle(0) || n == acted && !s.ReadsTerminal(0) && !s.Held(0) {
				idle += tick
			} else {
				idle = 0
			}
			acted = n
			if idle >= o.idle() {
				o.say("msg.server_stopped")
				sent = syscall.SIGINT
				s.SignalProgram(0, sent)
			}
			continue
		}
		if !s.Held(0) {
			since += tick
		}
		if since < o.grace() {
			continue
		}
		since = 0
		switch sent {
		case syscall.SIGINT:
			o.say("msg.server_sigterm", o.grace().String())
			sent = syscall.SIGTERM
		case syscall.SIGTERM:
			o.say("msg.server_sigkill", o.grace().String())
			sent = syscall.SIGKILL
		default:
			continue // killed: the kernel ends it
		}
		s.SignalProgram(0, sent)
	}
}

// watchStdin closes each of quiet (QuietStdin's) once its program reads
// it, and says so, until the session ends.
func (o *PlayOptions) watchStdin(s *Session, programs []Program, quiet []*os.File) {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-s.Done():
			return
		case <-t.C:
		}
		for i, f := range quiet {
			if f != nil && s.ReadsStdin(i) {
				o.say("msg.trace_stdin_step", strings.Join(programs[i].Argv, " "))
				f.Close()
				quiet[i] = nil
			}
		}
	}
}

func (o *PlayOptions) say(key string, args ...any) {
	if o.Say != nil {
		o.Say(key, args...)
	}
}

func (o *PlayOptions) readyWait() time.Duration { return orDefault(o.ReadyWait, 3*time.Second) }
func (o *PlayOptions) idle() time.Duration      { return orDefault(o.Idle, time.Second) }
func (o *PlayOptions) grace() time.Duration     { return orDefault(o.Grace, time.Second) }

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// ended says whether every program launched so far has ended.
func (s *Session) ended() bool {
	select {
	case <-s.Done():
		return true
	default:
		return false
	}
}
