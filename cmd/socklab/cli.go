package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/socklab/socklab/internal/grade"
	"github.com/socklab/socklab/internal/runsession"
	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/i18n"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// env is what run needs from the process. lang starts as the environment's
// language and becomes --lang's once a subcommand has read its flags.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	terminalColor  bool // --color=auto would colour standard output
	stdinTerminal  bool // standard input is a terminal: prompt for texts
	termWidth      int  // standard output's terminal width, 0 if not a terminal
	lang           i18n.Lang

	// What the run showed, for the line that ends it: sockets made, and
	// whether the trace is for people (text) or for programs.
	made      *runsession.SocketCount
	textTrace bool
}

// run is the whole command: it parses args, runs what they ask and returns
// the exit status. It prints only to e.stdout and e.stderr.
func run(ctx context.Context, args []string, e env) int {
	err := dispatch(ctx, args, &e)
	if err == nil {
		return exitOK
	}
	var m *message
	var sig signalError
	var exit *exitError
	switch {
	case errors.As(err, &exit):
		// socklab trace ends with the traced program's own status.
		if exit.msg != nil {
			e.printError(say(e.lang, exit.msg))
		}
		return exit.code
	case errors.Is(err, trace.ErrStopped):
		fmt.Fprintln(e.stderr, e.lang.T("line.error", e.closedNote("msg.stopped")))
		return exitOK
	case errors.As(err, &m) && m.usage:
		e.printError(say(e.lang, err))
		return exitUsage
	case errors.As(context.Cause(ctx), &sig):
		e.printError(e.closedNote("err.interrupted", signalName(e.lang, sig.sig)))
		return sig.exitCode()
	}
	e.printError(say(e.lang, err))
	return exitFailure
}

func dispatch(ctx context.Context, args []string, e *env) error {
	if len(args) == 0 {
		return runLesson(ctx, nil, e)
	}
	switch cmd := args[0]; {
	case cmd == "run":
		return runLesson(ctx, args[1:], e)
	case cmd == "server":
		return runServer(ctx, args[1:], e)
	case cmd == "client":
		return runClient(ctx, args[1:], e)
	case cmd == "steps":
		return runSteps(args[1:], e)
	case cmd == "list":
		return runList(args[1:], e)
	case cmd == "trace":
		return runTrace(ctx, args[1:], e)
	case cmd == "web":
		return runWeb(ctx, args[1:], e)
	case cmd == "grade": // internal/grade: socklab grade DIR
		return exitWith(grade.Main(ctx, args[1:], e.stdout, e.stderr, e.lang), nil)
	case cmd == "help":
		// socklab help [COMMAND] [--lang=zh]: the flags go with the
		// command's help.
		for i, arg := range args[1:] {
			if !strings.HasPrefix(arg, "-") {
				return dispatch(ctx, slices.Concat([]string{arg}, args[1:i+1], args[i+2:], []string{"--help"}), e)
			}
		}
		return printMainUsage(withLang(e, args[1:]))
	case isHelp(cmd):
		return printMainUsage(withLang(e, args[1:]))
	case strings.HasPrefix(cmd, "-"):
		// Flags before a command are the command's ("socklab --lang=zh
		// list"); flags without one are the default lesson's.
		for i, arg := range args {
			if slices.Contains(commands, arg) && !strings.HasPrefix(arg, "-") {
				return dispatch(ctx, slices.Concat([]string{arg}, args[:i], args[i+1:]), e)
			}
		}
		return runLesson(ctx, args, e)
	default:
		return usage("hint.unknown_command", "err.unknown_command", cmd)
	}
}

// withLang returns e speaking the language a --lang flag among args names,
// for the main help, which has no flags of its own to parse.
func withLang(e *env, args []string) *env {
	for i, arg := range args {
		value, ok := strings.CutPrefix(arg, "--lang=")
		if !ok && (arg == "--lang" || arg == "-lang") && i+1 < len(args) {
			value, ok = args[i+1], true
		}
		if l, known := i18n.Parse(value); ok && known {
			with := *e
			with.lang = l
			return &with
		}
	}
	return e
}

// commands are socklab's commands, the words dispatch knows.
var commands = []string{"run", "server", "client", "trace", "web", "grade", "steps", "list", "help"}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help"
}

func printMainUsage(e *env) error {
	w := e.stdout
	fmt.Fprint(w, e.lang.T("usage.main"))
	c := newCommand(e, "run", "")
	c.lessonFlags()
	fmt.Fprintln(w)
	fmt.Fprintln(w, e.lang.T("usage.flags_of_run"))
	c.printFlags(w)
	fmt.Fprintln(w)
	fmt.Fprintln(w, e.lang.T("usage.lessons"))
	return list(e)
}
