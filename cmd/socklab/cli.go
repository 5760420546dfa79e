package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/socklab/socklab/lessons"
	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/sock"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// env is what run needs from the process.
type env struct {
	stdout, stderr io.Writer
	terminalColor  bool // --color=auto would colour standard output
}

// signalError is the cause of a cancelled run when a signal stopped it.
type signalError struct{ sig os.Signal }

func (e signalError) Error() string { return "interrupted by " + signalName(e.sig) }

func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "Ctrl-C (SIGINT)"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return sig.String()
}

// exitCode is the shell's convention for a process a signal stopped.
func (e signalError) exitCode() int {
	if s, ok := e.sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return exitFailure
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct {
	msg  string
	hint string // what to try
}

func (e *usageError) Error() string { return e.msg }

func usagef(hint, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), hint: hint}
}

const mainUsage = `socklab runs a real TCP server and client on this machine and traces every
socket call as it happens, numbered as the classic 11-step lesson plan.

Usage:
  socklab [flags]              run the basic lesson (same as: socklab run basic)
  socklab run [LESSON] [flags] run a lesson
  socklab list                 list the lessons
  socklab help                 show this help

Flags of run:
`

// run is the whole command: it parses args, runs what they ask and returns
// the exit status. It prints only to e.stdout and e.stderr.
func run(ctx context.Context, args []string, e env) int {
	err := dispatch(ctx, args, e)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(e.stderr, "socklab: "+errorLine(err))
	var usage *usageError
	var sig signalError
	switch {
	case errors.As(err, &usage):
		return exitUsage
	case errors.As(context.Cause(ctx), &sig) && errors.Is(err, sock.ErrInterrupted):
		return sig.exitCode()
	}
	return exitFailure
}

// errorLine says in one line what went wrong and, where we know, what to try.
func errorLine(err error) string {
	var usage *usageError
	switch {
	case errors.As(err, &usage):
		if usage.hint != "" {
			return usage.msg + "; " + usage.hint
		}
		return usage.msg
	case errors.Is(err, sock.ErrUnsupported):
		return "this lesson needs a Unix-like system (Linux or macOS); run it there"
	case errors.Is(err, sock.ErrInterrupted):
		var sig signalError
		if errors.As(err, &sig) {
			return sig.Error() + "; every socket was closed (see the close steps above)"
		}
		return "interrupted; every socket was closed (see the close steps above)"
	}
	// Several peers may fail at once: say each, on one line.
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}

func dispatch(ctx context.Context, args []string, e env) error {
	if len(args) == 0 {
		return runLesson(ctx, nil, e)
	}
	switch cmd := args[0]; {
	case cmd == "run":
		return runLesson(ctx, args[1:], e)
	case cmd == "list":
		if len(args) > 1 {
			return usagef("run 'socklab list' alone", "list takes no arguments, got %q", args[1])
		}
		return list(e.stdout)
	case cmd == "help" || cmd == "-h" || cmd == "-help" || cmd == "--help":
		runFlags().printUsage(e.stdout)
		return nil
	case strings.HasPrefix(cmd, "-"):
		// Flags without a command are flags of the default lesson.
		return runLesson(ctx, args, e)
	default:
		return usagef("try 'socklab run', 'socklab list' or 'socklab --help'", "unknown command %q", cmd)
	}
}

func list(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, l := range lessons.All() {
		fmt.Fprintf(tw, "%s\t%s\n", l.Name, l.Summary)
	}
	return tw.Flush()
}

type runOptions struct {
	fs      *flag.FlagSet
	color   string
	format  string
	message string
	reply   string
}

func runFlags() *runOptions {
	o := &runOptions{fs: flag.NewFlagSet("socklab run", flag.ContinueOnError)}
	fs := o.fs
	fs.SetOutput(io.Discard) // errors are reported by run, in one line
	fs.StringVar(&o.color, "color", "auto", "colour the trace; auto (the default) colours only a terminal, and not under NO_COLOR or TERM=dumb")
	fs.StringVar(&o.format, "format", "text", "trace format; text (the default) is one line per step, json is JSON Lines (docs/trace-format.md)")
	fs.StringVar(&o.message, "message", lessons.DefaultMessage, "what the client sends (default \""+lessons.DefaultMessage+"\")")
	fs.StringVar(&o.reply, "reply", lessons.DefaultReply, "what the server replies (default \""+lessons.DefaultReply+"\")")
	// flag calls Usage on every parse error; run reports those in one line
	// and prints the usage only when asked.
	fs.Usage = func() {}
	return o
}

// flagValues shows, in the help, what each flag takes.
var flagValues = map[string]string{
	"color":   "auto|always|never",
	"format":  "text|json",
	"message": "TEXT",
	"reply":   "TEXT",
}

// printUsage writes the help text, flags shown with two dashes.
func (o *runOptions) printUsage(w io.Writer) {
	fmt.Fprint(w, mainUsage)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	o.fs.VisitAll(func(f *flag.Flag) {
		fmt.Fprintf(tw, "  --%s=%s\t%s\n", f.Name, flagValues[f.Name], f.Usage)
	})
	tw.Flush()
	fmt.Fprint(w, "\nLessons:\n")
	list(w)
}

// runLesson runs `socklab run [LESSON] [flags]`. Flags may come before or
// after the lesson's name.
func runLesson(ctx context.Context, args []string, e env) error {
	o := runFlags()
	name, err := o.parse(args)
	if errors.Is(err, flag.ErrHelp) {
		o.printUsage(e.stdout)
		return nil
	}
	if err != nil {
		return err
	}
	lesson, ok := lessons.Lookup(name)
	if !ok {
		return usagef("see 'socklab list'", "unknown lesson %q", name)
	}

	var sink trace.Sink
	switch o.format {
	case "text":
		useColor, err := o.colorOn(e.terminalColor)
		if err != nil {
			return err
		}
		sink = trace.NewTextSink(e.stdout, &trace.TextOptions{Color: useColor})
	case "json":
		if _, err := o.colorOn(false); err != nil {
			return err
		}
		sink = trace.NewJSONSink(e.stdout, nil)
	default:
		return usagef("use --format=text or --format=json", "unknown format %q", o.format)
	}

	tr := trace.New(sink)
	err = lesson.Run(ctx, tr, lessons.Options{Message: o.message, Reply: o.reply})
	if errors.Is(err, lessons.ErrBadOption) {
		return &usageError{msg: strings.TrimPrefix(err.Error(), lessons.ErrBadOption.Error()+": ")}
	}
	if err != nil {
		return err
	}
	if err := tr.Err(); err != nil {
		return fmt.Errorf("writing the trace: %w", err)
	}
	return nil
}

// parse reads flags and at most one lesson name, in any order.
func (o *runOptions) parse(args []string) (string, error) {
	name := ""
	for {
		if err := o.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return "", err
			}
			return "", usagef("see 'socklab run --help'", "%s", flagError(err))
		}
		args = o.fs.Args()
		if len(args) == 0 {
			break
		}
		if name != "" {
			return "", usagef("run one lesson at a time", "too many arguments: %q", args[0])
		}
		name, args = args[0], args[1:]
	}
	if name == "" {
		name = "basic"
	}
	if o.message == "" {
		return "", usagef("give the client something to say", "--message is empty: an empty message sends no bytes, so the server would wait for ever")
	}
	if o.reply == "" {
		return "", usagef("give the server something to reply", "--reply is empty: an empty reply sends no bytes, so the client would wait for ever")
	}
	return name, nil
}

func (o *runOptions) colorOn(terminal bool) (bool, error) {
	switch o.color {
	case "auto":
		return terminal, nil
	case "always":
		return true, nil
	case "never":
		return false, nil
	}
	return false, usagef("use --color=auto, always or never", "unknown --color value %q", o.color)
}

// flagError rewords the flag package's errors for people who type --flags.
func flagError(err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return "unknown flag --" + name
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return "flag --" + name + " needs a value, as in --" + name + "=VALUE"
	}
	return msg
}
