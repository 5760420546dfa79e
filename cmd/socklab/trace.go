package main

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/socklab/socklab/lessons"
	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/i18n"
	"github.com/socklab/socklab/trace/ptrace"
)

// runTrace runs `socklab trace [flags] -- CMD [ARGS…]` and `socklab trace
// [flags] --server 'CMD' --client 'CMD'…`: another program's socket calls,
// shown as the lessons show their own.
func runTrace(ctx context.Context, args []string, e *env) error {
	c := newCommand(e, "trace", "usage.synopsis.trace")
	c.traceFlags()
	var server, expect string
	var clients stringList
	var all bool
	c.stringFlag(&server, "server", "'CMD'", "", "flag.trace_server")
	c.fs.Var(&clients, "client", "flag.trace_client")
	c.values["client"], c.help["client"] = "'CMD'", helpText{key: "flag.trace_client"}
	c.boolFlag(&all, "all", "flag.trace_all")
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
	var programs []ptrace.Program
	switch {
	case len(argv) > 0 && (server != "" || len(clients) > 0):
		return usage("hint.trace_command", "err.trace_both")
	case len(argv) > 0:
		programs = append(programs, ptrace.Program{Argv: argv})
	case server == "" && len(clients) > 0:
		return usage("hint.trace_command", "err.trace_client_alone")
	case server == "":
		return usage("hint.trace_command", "err.trace_no_command")
	default:
		words, err := commandWords(server)
		if err != nil {
			return usage("hint.trace_quote", "err.trace_quote", "--server", say(e.lang, err))
		}
		programs = append(programs, ptrace.Program{Argv: words, Role: trace.Server})
		for _, cl := range clients {
			words, err := commandWords(cl)
			if err != nil {
				return usage("hint.trace_quote", "err.trace_quote", "--client", say(e.lang, err))
			}
			// A client's standard input is not the terminal: the server
			// has it (the tutorial's server asks for its reply there).
			programs = append(programs, ptrace.Program{Argv: words, Role: trace.Client, Stdin: devNull()})
		}
	}
	// On a terminal the programs' lines come among the trace's, as they
	// happen. Where socklab's output is a file or a pipe (JSON, a page),
	// the programs write to standard error: their output never mixes
	// into the trace's data.
	if e.termWidth == 0 {
		for i := range programs {
			programs[i].Stdout = os.Stderr
		}
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
		tty, err := os.Open("/dev/tty")
		if err != nil {
			return usage("hint.step_tty", "err.step_tty")
		}
		defer tty.Close()
		input = newLineReader(tty, e.stderr, true)
	}
	gate, err := c.gate(ctx, nil, input)
	if err != nil {
		return err
	}
	tr := s.start(gate, false, also...)
	session, played, err := playTrace(ctx, tr, programs, all, gate != nil, e)
	if err != nil {
		return err
	}
	stoppedServer, interrupted := played.stoppedServer, played.interrupted
	exits := session.Wait()
	s.Close() // every trace line is out before what follows them
	for _, x := range exits {
		if x.Untraced32 {
			e.printError(e.lang.T("warn.32bit", strings.Join(x.Argv, " ")))
		}
		if x.IOUring {
			e.printError(e.lang.T("warn.io_uring", strings.Join(x.Argv, " ")))
		}
		if x.Shown == 0 && !x.Killed {
			e.printError(e.lang.T("warn.no_socket_calls", strings.Join(x.Argv, " ")))
		}
	}
	if gateErr := tr.GateErr(); errors.Is(gateErr, trace.ErrStopped) {
		return exitWith(exitOK, failure("", "msg.trace_stopped"))
	}
	if recorded != nil {
		if !expectTable(e, lesson, recorded.Events(), session.LeftOpen()) {
			return exitWith(exitFailure, nil)
		}
	}
	if err := s.done(nil); err != nil {
		return err
	}
	// The programs' own status, as a shell reports it: the first that
	// failed (the server's before the clients'), else 0.
	for i, x := range exits {
		if i == 0 && stoppedServer {
			continue
		}
		if x.Code != 0 {
			if interrupted {
				return exitWith(x.Code, failure("", "err.trace_interrupted"))
			}
			return exitWith(x.Code, nil)
		}
	}
	return nil
}

// played is how a traced run of programs ended.
type played struct {
	stoppedServer bool // socklab stopped a server left waiting in accept
	interrupted   bool // ctx was done first: the programs were sent SIGINT
}

// playTrace starts programs (a server first, its clients once it listens)
// under a session tracing into tr, and waits until they have ended. When
// ctx is done first, the programs get SIGINT, and playTrace waits for
// them to end.
func playTrace(ctx context.Context, tr *trace.Tracer, programs []ptrace.Program, all, stepped bool, e *env) (*ptrace.Session, played, error) {
	listening := make(chan struct{}, 1)
	session, err := ptrace.Start(tr, ptrace.Options{
		All: all, KernelState: true, Stepped: stepped,
		Listening: func(int) {
			select {
			case listening <- struct{}{}:
			default:
			}
		},
	})
	if err != nil {
		return nil, played{}, failure("", "err.trace_start", programs[0].Argv[0], err.Error())
	}
	pid, err := session.Launch(programs[0])
	if err != nil {
		return nil, played{}, launchFailed(programs[0], err)
	}
	pids := []int{pid}
	stoppedServer := false
	if len(programs) > 1 {
		// The clients start once the server listens: before that, their
		// connect would be refused.
		select {
		case <-listening:
		case <-session.Done():
		case <-ctx.Done():
			session.Signal(syscall.SIGINT)
		}
		for _, p := range programs[1:] {
			pid, err := session.Launch(p)
			if err != nil {
				session.Kill()
				<-session.Done()
				return nil, played{}, launchFailed(p, err)
			}
			pids = append(pids, pid)
		}
		stoppedServer = stopIdleServer(ctx, session, pids, e)
	}
	interrupted := false
	select {
	case <-session.Done():
	case <-ctx.Done():
		// Ctrl-C at the terminal reached the programs too; a signal sent
		// to socklab alone is passed on. A second Ctrl-C kills socklab,
		// and the kernel kills the programs with it (PTRACE_O_EXITKILL).
		interrupted = true
		session.Signal(syscall.SIGINT)
		<-session.Done()
	}
	return session, played{stoppedServer, interrupted}, nil
}

// stopIdleServer waits for the clients to end; then a server that waits
// in accept for another client (a server that serves forever) would keep
// the run going for ever: socklab stops it with SIGINT, as a person would
// with Ctrl-C, and says so. It reports whether it did.
func stopIdleServer(ctx context.Context, s *ptrace.Session, pids []int, e *env) bool {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	idleSince := time.Time{}
	for {
		select {
		case <-s.Done():
			return false
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
		if !s.Ended(pids[1:]...) {
			continue
		}
		if s.Blocked(pids[0]) == trace.OpAccept {
			if idleSince.IsZero() {
				idleSince = time.Now()
			}
			// A moment, so that a server about to exit by itself does.
			if time.Since(idleSince) >= time.Second {
				e.warn("msg.server_stopped")
				s.Signal(syscall.SIGINT)
				return true
			}
		} else {
			idleSince = time.Time{}
		}
	}
}

// launchFailed says why a program could not start.
func launchFailed(p ptrace.Program, err error) error {
	if errors.Is(err, ptrace.ErrPtraceRefused) {
		return failure("hint.ptrace_refused", "err.ptrace_refused")
	}
	return failure("", "err.trace_start", p.Argv[0], err.Error())
}

// commandWords splits a --server or --client command into words, as a shell
// would for a simple command: spaces separate words, quotes group them. A
// command with the shell's own syntax (a pipe, a redirection, a variable,
// &&) runs under sh -c; the trace follows sh into the program.
func commandWords(command string) ([]string, error) {
	if strings.ContainsAny(command, "|&;<>()$`*?[]#~\n") {
		return []string{"sh", "-c", command}, nil
	}
	words, err := splitWords(command)
	if err == nil && strings.Contains(words[0], "=") { // VAR=value cmd
		return []string{"sh", "-c", command}, nil
	}
	return words, err
}

// splitWords splits s into words: spaces separate them, quotes and \
// group them, as in a shell.
func splitWords(command string) ([]string, error) {
	var words []string
	var word strings.Builder
	inWord := false
	quote := rune(0)
	escaped := false
	for _, r := range command {
		switch {
		case escaped:
			word.WriteRune(r)
			escaped = false
		case r == '\\' && quote != '\'':
			escaped, inWord = true, true
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			word.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	switch {
	case quote != 0:
		return nil, &wordsError{key: "words.unclosed", arg: string(quote)}
	case escaped:
		return nil, &wordsError{key: "words.backslash"}
	}
	if inWord {
		words = append(words, word.String())
	}
	if len(words) == 0 {
		return nil, &wordsError{key: "words.empty"}
	}
	return words, nil
}

// A wordsError is why a command could not be split into words: a
// catalogue key and its argument, if any.
type wordsError struct {
	key string
	arg any
}

func (e *wordsError) Error() string { return e.Say(i18n.EN) }

// Say says the error in l (i18n.Sayer).
func (e *wordsError) Say(l i18n.Lang) string {
	if e.arg == nil {
		return l.T(e.key)
	}
	return l.T(e.key, e.arg)
}

// devNull is an open /dev/null, for a program's standard input.
func devNull() *os.File {
	f, err := os.Open(os.DevNull)
	if err != nil {
		return nil
	}
	return f
}
