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
	"unicode"

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
	stdin          io.Reader
	stdout, stderr io.Writer
	terminalColor  bool // --color=auto would colour standard output
	stdinTerminal  bool // standard input is a terminal: prompt for texts
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
  socklab [flags]               run the basic lesson (same as: socklab run basic)
  socklab run [LESSON] [flags]  run a lesson: both peers in one process
  socklab server [flags]        be the server, for a client in another terminal
  socklab client [flags]        be the client of a server in another terminal
  socklab list                  list the lessons
  socklab help [COMMAND]        show help

`

// run is the whole command: it parses args, runs what they ask and returns
// the exit status. It prints only to e.stdout and e.stderr.
func run(ctx context.Context, args []string, e env) int {
	err := dispatch(ctx, args, e)
	if err == nil {
		return exitOK
	}
	var usage *usageError
	var sig signalError
	switch {
	case errors.As(err, &usage):
		fmt.Fprintln(e.stderr, "socklab: "+safeLine(errorLine(err)))
		return exitUsage
	case errors.As(context.Cause(ctx), &sig):
		fmt.Fprintln(e.stderr, "socklab: "+sig.Error()+"; every socket was closed (see the close steps above)")
		return sig.exitCode()
	}
	fmt.Fprintln(e.stderr, "socklab: "+safeLine(errorLine(err)))
	return exitFailure
}

// safeLine escapes whatever in an error line is not printable text: the
// line may quote what a user typed or a peer sent, and it goes to a
// terminal.
func safeLine(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return s
	}
	safe, _ := trace.Preview([]byte(s), 0)
	return strings.ReplaceAll(safe, `\"`, `"`)
}

func dispatch(ctx context.Context, args []string, e env) error {
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
	case cmd == "list":
		if len(args) > 1 && isHelp(args[1]) {
			fmt.Fprintln(e.stdout, "Usage: socklab list\n\nLists the lessons, one line each, in teaching order.")
			return nil
		}
		if len(args) > 1 {
			return usagef("run 'socklab list' alone", "list takes no arguments, got %q", args[1])
		}
		return list(e.stdout)
	case cmd == "help":
		if len(args) > 1 {
			return dispatch(ctx, []string{args[1], "--help"}, e)
		}
		return printMainUsage(e.stdout)
	case isHelp(cmd):
		return printMainUsage(e.stdout)
	case strings.HasPrefix(cmd, "-"):
		// Flags without a command are flags of the default lesson.
		return runLesson(ctx, args, e)
	default:
		return usagef("try 'socklab run', 'socklab server', 'socklab client', 'socklab list' or 'socklab --help'", "unknown command %q", cmd)
	}
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help"
}

func printMainUsage(w io.Writer) error {
	fmt.Fprint(w, mainUsage)
	c := newCommand("run", "")
	c.lessonFlags()
	fmt.Fprint(w, "Flags of run (see also 'socklab help server', 'socklab help client'):\n")
	c.printFlags(w)
	fmt.Fprint(w, "\nLessons:\n")
	return list(w)
}

func list(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, l := range lessons.All() {
		fmt.Fprintf(tw, "%s\t%s\n", l.Name, l.Summary)
	}
	return tw.Flush()
}

// command is one subcommand's flags. Every subcommand takes --color and
// --format; the others are added by what the subcommand needs.
type command struct {
	name     string
	synopsis string
	fs       *flag.FlagSet
	values   map[string]string // flag → what it takes, for the help
	color    string
	format   string
}

func newCommand(name, synopsis string) *command {
	c := &command{name: name, synopsis: synopsis, fs: flag.NewFlagSet("socklab "+name, flag.ContinueOnError), values: map[string]string{}}
	// flag prints to its output and calls Usage on every parse error; run
	// reports errors itself, in one line, and prints help only when asked.
	c.fs.SetOutput(io.Discard)
	c.fs.Usage = func() {}
	c.stringFlag(&c.color, "color", "auto|always|never", "auto", "colour the trace; auto (the default) colours only a terminal, and not under NO_COLOR or TERM=dumb")
	c.stringFlag(&c.format, "format", "text|json", "text", "trace format; text (the default) is one line per step, json is JSON Lines (docs/trace-format.md)")
	return c
}

func (c *command) stringFlag(p *string, name, takes, value, usage string) {
	c.fs.StringVar(p, name, value, usage)
	c.values[name] = takes
}

// lessonFlags adds the flags of `socklab run`.
func (c *command) lessonFlags() (message, reply *string) {
	message, reply = new(string), new(string)
	c.stringFlag(message, "message", "TEXT", lessons.DefaultMessage, fmt.Sprintf("what the client sends (default %q)", lessons.DefaultMessage))
	c.stringFlag(reply, "reply", "TEXT", lessons.DefaultReply, fmt.Sprintf("what the server replies (default %q)", lessons.DefaultReply))
	return message, reply
}

func (c *command) printFlags(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	c.fs.VisitAll(func(f *flag.Flag) {
		takes := c.values[f.Name]
		if takes == "" {
			fmt.Fprintf(tw, "  --%s\t%s\n", f.Name, f.Usage)
		} else {
			fmt.Fprintf(tw, "  --%s=%s\t%s\n", f.Name, takes, f.Usage)
		}
	})
	tw.Flush()
}

func (c *command) printUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: socklab %s\n\n%s\n\nFlags:\n", c.name, c.synopsis)
	c.printFlags(w)
}

// parse reads flags and, in any order among them, at most maxArgs other
// arguments. It returns flag.ErrHelp after printing the help if asked.
func (c *command) parse(args []string, maxArgs int, w io.Writer) ([]string, error) {
	var rest []string
	for {
		if err := c.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				c.printUsage(w)
				return nil, err
			}
			return nil, usagef(c.helpHint(), "%s", flagError(err))
		}
		args = c.fs.Args()
		if len(args) == 0 {
			break
		}
		if len(rest) == maxArgs {
			if maxArgs == 0 {
				return nil, usagef(c.helpHint(), "%s takes no arguments, got %q", c.verb(), args[0])
			}
			return nil, usagef("run one lesson at a time", "too many arguments: %q", args[0])
		}
		rest, args = append(rest, args[0]), args[1:]
	}
	return rest, nil
}

// verb is the subcommand's name without its arguments: "run".
func (c *command) verb() string { return strings.Fields(c.name)[0] }

func (c *command) helpHint() string { return fmt.Sprintf("see 'socklab %s --help'", c.verb()) }

// sink returns the sink --format and --color ask for.
func (c *command) sink(e env) (trace.Sink, error) {
	var useColor bool
	switch c.color {
	case "auto":
		useColor = e.terminalColor
	case "always":
		useColor = true
	case "never":
	default:
		return nil, usagef("use --color=auto, always or never", "unknown --color value %q", c.color)
	}
	switch c.format {
	case "text":
		return trace.NewTextSink(e.stdout, &trace.TextOptions{Color: useColor}), nil
	case "json":
		return trace.NewJSONSink(e.stdout, nil), nil
	}
	return nil, usagef("use --format=text or --format=json", "unknown format %q", c.format)
}

// flagError rewords the flag package's errors for people who type --flags.
func flagError(err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return fmt.Sprintf("unknown flag %q", "--"+name)
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return fmt.Sprintf("flag %q needs a value, as in --%s=VALUE", "--"+name, name)
	}
	// invalid value "soon" for flag -timeout: WHY
	if rest, ok := strings.CutPrefix(msg, "invalid value "); ok {
		if value, rest, ok := strings.Cut(rest, " for flag -"); ok {
			if name, why, ok := strings.Cut(rest, ": "); ok {
				return fmt.Sprintf("--%s %s is not valid: %s", name, value, why)
			}
		}
	}
	return msg
}

// runLesson runs `socklab run [LESSON] [flags]`.
func runLesson(ctx context.Context, args []string, e env) error {
	c := newCommand("run [LESSON]", "Runs a lesson, both peers in one process; LESSON is basic unless named.")
	message, reply := c.lessonFlags()
	rest, err := c.parse(args, 1, e.stdout)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(e.stdout, "\nLessons:\n")
		return list(e.stdout)
	}
	if err != nil {
		return err
	}
	name := "basic"
	if len(rest) == 1 {
		name = rest[0]
	}
	lesson, ok := lessons.Lookup(name)
	if !ok {
		return usagef("see 'socklab list'", "unknown lesson %q", name)
	}
	if *message == "" {
		return usagef("give the client something to say", "--message is empty: an empty message sends no bytes, so the server would wait for ever")
	}
	if *reply == "" {
		return usagef("give the server something to reply", "--reply is empty: an empty reply sends no bytes, so the client would wait for ever")
	}
	sink, err := c.sink(e)
	if err != nil {
		return err
	}
	tr := trace.New(sink).SetKernelState(true)
	err = lesson.Run(ctx, tr, lessons.Options{Message: *message, Reply: *reply})
	if optErr := (*lessons.OptionError)(nil); errors.As(err, &optErr) {
		return &usageError{msg: optErr.Error()}
	}
	return traceDone(tr, err)
}

// traceDone adds to a run's error the trace's own: a trace that could not be
// written (standard output closed) is a failure too.
func traceDone(tr *trace.Tracer, err error) error {
	if err != nil {
		return err
	}
	if err := tr.Err(); err != nil {
		return fmt.Errorf("writing the trace: %w", err)
	}
	return nil
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
	}
	line := oneLine(err)
	if name := sock.ErrnoName(err); name != "" && !strings.Contains(line, name) {
		line += " (" + name + ")"
	}
	if hint := hintFor(err); hint != "" {
		return line + "; " + hint
	}
	return line
}

// oneLine joins several errors (two peers may fail at once) on one line.
func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}
