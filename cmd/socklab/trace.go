package main

import (
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"sync/atomic"

	"github.com/socklab/socklab/internal/grade"
	"github.com/socklab/socklab/internal/kernelview"
	"github.com/socklab/socklab/internal/progio"
	"github.com/socklab/socklab/internal/report"
	"github.com/socklab/socklab/internal/verdict"
	"github.com/socklab/socklab/lessons"
	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/ptrace"
)

// runTrace runs `socklab trace [flags] -- CMD [ARGS…]` and `socklab trace
// [flags] --server 'CMD' --client 'CMD'…`: another program's socket calls,
// shown as the lessons show their own.
func runTrace(ctx context.Context, args []string, e *env) error {
	c := newCommand(e, "trace", "usage.synopsis.trace")
	c.traceFlags()
	var server, expect, serverInput, clientInput string
	var clients stringList
	var all, isolate bool
	c.stringFlag(&server, "server", "'CMD'", "", "flag.trace_server")
	c.stringFlag(&serverInput, "server-input", "FILE", "", "flag.trace_server_input")
	c.stringFlag(&clientInput, "client-input", "FILE", "", "flag.trace_client_input")
	c.fs.Var(&clients, "client", "flag.trace_client")
	c.values["client"], c.help["client"] = "'CMD'", helpText{key: "flag.trace_client"}
	c.boolFlag(&all, "all", "flag.trace_all")
	c.boolFlag(&isolate, "isolate", "flag.trace_isolate")
	c.stringFlag(&expect, "expect", "LESSON", "", "flag.trace_expect")
	c.boolFlag(&c.web, "web", "flag.web")
	// Everything after the first -- is the command, its own flags too.
	flags, argv := args, []string(nil)
	if i := slices.Index(args, "--"); i >= 0 {
		flags, argv = args[:i], args[i+1:]
	}
	if _, err := c.parse(flags, 0); err != nil {
		return ignoreHelp(err)
	}
	limit := grade.NewLimit(ctx) // a grade run's time limit for one submission, if any
	defer limit.Stop()
	ctx = limit.Ctx
	programs, err := tracePrograms(argv, server, clients, serverInput != "" || clientInput != "", e)
	if err != nil {
		return err
	}
	var lesson lessons.Lesson
	if expect != "" {
		var ok bool
		if lesson, ok = lessons.Lookup(expect); !ok {
			return usage("hint.unknown_lesson", "err.unknown_lesson", expect)
		}
		if lesson.Expect == nil {
			return usage("hint.trace_expect", "err.trace_expect", expect)
		}
	}
	if err := ptrace.Supported(); err != nil {
		return failure("", "err.trace_unsupported")
	}
	if code, rerun := ptrace.RerunIsolated(isolate, os.Args[1:], e.stdin, e.stdout, e.stderr); rerun {
		return exitWith(code, nil) // not root: run again in a user namespace of its own
	}
	for i := range programs {
		path, err := ptrace.Resolve(programs[i].Argv[0])
		switch {
		case errors.Is(err, ptrace.ErrNotFound):
			return exitWith(127, failure("hint.not_found", "err.not_found", programs[i].Argv[0]))
		case errors.Is(err, ptrace.ErrNotExecutable):
			return exitWith(126, failure("", "err.not_executable", programs[i].Argv[0]))
		case err != nil:
			return failure("", "err.trace_start", programs[i].Argv[0], err.Error())
		}
		if info, err := os.Stat(path); err == nil && info.Mode()&(os.ModeSetuid|os.ModeSetgid) != 0 {
			e.warn("warn.setuid", path)
		}
	}

	streams, err := c.programIO(programs, serverInput, clientInput)
	if err != nil {
		return err
	}
	defer streams.Close()
	if c.web {
		if err := c.webAlone(); err != nil {
			return err
		}
		if expect != "" {
			return usage("hint.web_flags", "err.web_flags")
		}
		return serveWeb(ctx, c, c.tracePage(programs, all), "", defaultHost+":0", false)
	}
	s, err := c.openSession()
	if err != nil {
		return err
	}
	defer s.Close()
	var also []trace.Sink
	var recorded *trace.Recorder
	if expect != "" {
		recorded = &trace.Recorder{}
		also = append(also, recorded)
	}
	var input *lineReader
	if c.step {
		// The keys come from the terminal itself: the programs keep
		// standard input (a server's reply, a file of answers).
		tty, err := openKeys()
		if err != nil {
			return usage("hint.step_tty", "err.step_tty")
		}
		defer tty.Close()
		input = newLineReader(tty, e.stderr, true)
	}
	// --expect LESSON: the conductor follows the lesson's script. Else a
	// server's accept waits for a client's connect while a client may
	// still come: 4 and 5 before 6, as the lessons teach.
	var script []trace.Point
	if expect != "" {
		script = lesson.Expect.Script()
	}
	gate, err := c.gate(ctx, script, input)
	if err != nil {
		return err
	}
	var clientsLeft atomic.Int32
	clientsLeft.Store(int32(len(programs) - 1))
	if cd, ok := gate.(*trace.Conductor); ok && script == nil && len(programs) > 1 {
		cd.ClientFirst(func() bool { return clientsLeft.Load() > 0 })
	}
	tr := s.start(gate, false, also...)
	session, played, err := ptrace.Play(ctx, tr, programs, ptrace.PlayOptions{
		Options: ptrace.Options{All: all, Isolate: isolate, KernelState: true, Stepped: gate != nil, Exited: func(x ptrace.Exit) {
			if x.Program > 0 {
				clientsLeft.Add(-1)
			}
		}},
		Say: e.warn, QuietStdin: streams.Quiet,
	})
	if m := (*message)(nil); err != nil && errors.As(launchFailed(err), &m) && expect != "" {
		return exitWith(verdict.Unjudged, m) // nothing to judge
	} else if err != nil {
		return launchFailed(err)
	}
	exits := session.Wait()
	streams.Close() // the programs' last lines are out
	s.Close()       // every trace line is out before what follows them
	progio.WarnUntraced(func(key string, args ...any) { e.printError(e.lang.T(key, args...)) }, exits)
	if len(exits) > 1 {
		progio.ReportExits(e.warn, exits)
	}
	if gateErr := tr.GateErr(); errors.Is(gateErr, trace.ErrStopped) {
		return exitWith(exitOK, failure("", "msg.trace_stopped"))
	}
	if recorded != nil {
		// After a text trace, the table is the trace's last part; after
		// JSON or Mermaid it goes to standard error, not into the data.
		w := e.stdout
		if !e.textTrace {
			w = e.stderr
		}
		v := verdict.Judge(lesson.Expect, verdict.Run{Events: recorded.Events(), Exits: exits, LeftOpen: session.LeftOpen(),
			Tails: streams.Tails(), Stopped: played.Stopped, TimeWait: kernelview.TimeWaitLeft, TimedOut: limit.RanOut(), Limit: limit.D})
		grade.Save(v, exits, limit.RanOut())
		if !report.Expect(w, e.lang, lesson, v, session.LeftOpen()) {
			return exitWith(v.Status, nil)
		}
	}
	if err := s.done(nil); err != nil {
		return err
	}
	if code := progio.Status(exits, played.Stopped); code != 0 && played.Interrupted {
		return exitWith(code, failure("", "err.trace_interrupted"))
	} else if code != 0 {
		return exitWith(code, nil)
	}
	return nil
}

// openKeys opens the terminal --step's keys come from (a test gives its
// own).
var openKeys = func() (io.ReadCloser, error) { return os.Open("/dev/tty") }

// launchFailed says why a program could not start.
func launchFailed(err error) error {
	var l *ptrace.LaunchError
	switch {
	case errors.Is(err, ptrace.ErrPtraceRefused):
		return failure("hint.ptrace_refused", "err.ptrace_refused")
	case errors.Is(err, ptrace.ErrIsolateRefused):
		return failure("", "err.isolate_unsupported", ptrace.ErrIsolateRefused.Error())
	case errors.As(err, &l):
		return failure("", "err.trace_start", l.Program.Argv[0], l.Err.Error())
	}
	return err
}
