package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/fatih/color"

	"github.com/socklab/socklab/lessons"
	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/i18n"
	"github.com/socklab/socklab/trace/sock"
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
	made      *socketCount
	textTrace bool
}

// closedNote says where the closes of an interrupted run are: in the
// lines above, in the JSON trace, or nowhere, as no socket was made.
func (e *env) closedNote(key string, args ...any) string {
	switch {
	case e.made == nil || e.made.n.Load() == 0:
		key += ".none"
	case !e.textTrace:
		key += ".data"
	}
	return e.lang.T(key, args...)
}

// signalError is the cause of a cancelled run when a signal stopped it.
type signalError struct{ sig os.Signal }

func (e signalError) Error() string { return "interrupted by " + signalName(i18n.EN, e.sig) }

// Reason names the signal for the trace (sock.Reasoner): "SIGINT".
func (e signalError) Reason() string {
	switch e.sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return e.sig.String()
}

func signalName(l i18n.Lang, sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return l.T("signal.sigint")
	case syscall.SIGTERM:
		return l.T("signal.sigterm")
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

// A message is an error that knows how to say itself in any language: a
// catalogue key with its arguments, and maybe the key of a hint.
type message struct {
	key      string
	args     []any
	hint     string // a key, or ""
	hintArgs []any
	usage    bool // a mistake in the command line: exit status 2
}

func (m *message) Error() string { return m.Say(i18n.EN) }

// Say says the message in l (i18n.Sayer).
func (m *message) Say(l i18n.Lang) string {
	text := l.T(m.key, m.args...)
	if m.hint != "" {
		text = l.T("line.hint", text, l.T(m.hint, m.hintArgs...))
	}
	return text
}

// usage returns a usage error: key and args say what is wrong, hint what
// to try.
func usage(hint, key string, args ...any) *message {
	return &message{key: key, args: args, hint: hint, usage: true}
}

// failure returns the error of something that went wrong at run time.
func failure(hint, key string, args ...any) *message {
	return &message{key: key, args: args, hint: hint}
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

// printError writes the one line that says what went wrong.
func (e *env) printError(text string) {
	fmt.Fprintln(e.stderr, e.lang.T("line.error", safeLine(text)))
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
var commands = []string{"run", "server", "client", "trace", "web", "steps", "list", "help"}

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

// runList runs `socklab list`.
func runList(args []string, e *env) error {
	c := newCommand(e, "list", "usage.synopsis.list")
	c.globalFlags()
	if _, err := c.parse(args, 0); err != nil {
		return ignoreHelp(err)
	}
	on, err := c.colorOn()
	if err != nil {
		return err
	}
	return listIn(e, on)
}

func list(e *env) error { return listIn(e, false) }

// listIn lists the lessons, their names in colour if on.
func listIn(e *env, on bool) error {
	width := 0
	for _, l := range lessons.All() {
		width = max(width, len(l.Name))
	}
	for _, l := range lessons.All() {
		// Padded before it is painted: escape codes take no columns.
		fmt.Fprintf(e.stdout, "%s  %s\n", paint(on, nameColor, pad(l.Name, width)), e.lang.T("lesson."+l.Name))
	}
	return nil
}

// The colours of list and steps: the trace's own, server cyan and client
// yellow, and lesson names bold.
var (
	nameColor   = color.New(color.Bold)
	serverColor = color.New(color.FgCyan)
	clientColor = color.New(color.FgYellow)
)

// paint colours s with c if on. Each Color is enabled on its own: the
// package-wide switch (NoColor) stays as fatih/color set it.
func paint(on bool, c *color.Color, s string) string {
	if !on {
		return s
	}
	c.EnableColor()
	return c.Sprint(s)
}

// command is one subcommand's flags.
type command struct {
	env      *env
	name     string // "run", "server", …
	synopsis string // a key
	fs       *flag.FlagSet
	values   map[string]string   // flag → what it takes, for the help
	help     map[string]helpText // flag → its help, said once --lang is known
	lang     string
	color    string
	format   string
	explain  bool
	step     bool
	delay    time.Duration
	layout   string
	wire     bool
	pcap     string
	web      bool // run --web: the run goes to a browser page
}

func newCommand(e *env, name, synopsis string) *command {
	c := &command{env: e, name: name, synopsis: synopsis, fs: flag.NewFlagSet("socklab "+name, flag.ContinueOnError), values: map[string]string{}, help: map[string]helpText{}}
	// flag prints to its output and calls Usage on every parse error; run
	// reports errors itself, in one line, and prints help only when asked.
	c.fs.SetOutput(io.Discard)
	c.fs.Usage = func() {}
	return c
}

// globalFlags adds --lang and --color, which every subcommand takes, with
// the same meaning everywhere.
func (c *command) globalFlags() {
	c.stringFlag(&c.lang, "lang", "en|zh", "", "flag.lang")
	c.stringFlag(&c.color, "color", "auto|always|never", "auto", "flag.color")
}

// colorOn says whether --color asks for colour: auto colours a terminal
// (not under NO_COLOR or TERM=dumb); always and never win over those.
func (c *command) colorOn() (bool, error) {
	switch c.color {
	case "auto":
		return c.env.terminalColor, nil
	case "always":
		return true, nil
	case "never":
		return false, nil
	}
	return false, usage("hint.color", "err.color", c.color)
}

// traceFlags adds the flags of every subcommand that prints a trace.
func (c *command) traceFlags() {
	c.globalFlags()
	c.stringFlag(&c.format, "format", "text|json|mermaid", "text", "flag.format")
	c.boolFlag(&c.explain, "explain", "flag.explain")
	c.stringFlag(&c.layout, "layout", "columns|lines", "", "flag.layout")
	c.boolFlag(&c.step, "step", "flag.step")
	c.durationFlag(&c.delay, "delay", "flag.delay")
	c.boolFlag(&c.wire, "wire", "flag.wire")
	c.stringFlag(&c.pcap, "pcap", "FILE", "", "flag.pcap")
}

// gate returns the conductor --step or --delay ask for, or nil: in the
// lesson's teaching order (script), or for one peer on its own (nil
// script) at each step. Prompts read from input.
func (c *command) gate(ctx context.Context, script []trace.Point, input *lineReader) (trace.Gate, error) {
	switch {
	case c.step && c.delay != 0:
		return nil, usage("hint.step_or_delay", "err.step_and_delay")
	case c.delay < 0:
		return nil, usage("hint.delay_positive", "err.delay_negative", c.delay)
	case c.delay > maxDelay:
		return nil, usage("hint.delay_max", "err.delay_max", c.delay, maxDelay)
	case c.step:
		l := c.env.lang
		return trace.NewConductor(ctx, script, func(ctx context.Context, e *trace.Event) error {
			prompt := l.T("prompt.step", e.Step, trace.PeerName(l, e.Peer), l.T(stepKey(l, e, "call")), l.T(stepKey(l, e, "what")))
			if w := c.env.termWidth; w > 20 {
				// Wrapped here, between words (or Chinese characters),
				// not by the terminal in the middle of one.
				prompt = strings.Join(trace.Wrap(strings.TrimRight(prompt, " "), w-1), "\n")
			}
			line, err := input.askOwnLine(ctx, prompt)
			switch {
			case errors.Is(err, errInputClosed):
				return trace.ErrStopped
			case err != nil:
				return err
			case strings.EqualFold(strings.TrimSpace(line), "q"):
				return trace.ErrStopped
			}
			return nil
		}).Settle(settleTime), nil
	case c.delay > 0:
		return trace.NewConductor(ctx, script, func(ctx context.Context, _ *trace.Event) error {
			select {
			case <-time.After(c.delay):
				return nil
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}).Settle(settleTime), nil
	}
	return nil, nil
}

// maxDelay bounds --delay: a pause longer than this before each step is a
// typo (1000000h), not a pace.
const maxDelay = 10 * time.Minute

// settleTime is how long the conductor lets the calls in flight be quiet
// before a step's prompt: a call about to return (accept, once the
// handshake is done) prints its line first, so that the class reads the
// steps in order (trace.Conductor.Settle).
const settleTime = 20 * time.Millisecond

// stepKey returns the catalogue key of part ("call" or "what") of the
// step e is about to take: the step's own words, or those for a
// non-blocking socket (it will not wait) or for a close with no connection
// (it sends nothing).
func stepKey(l i18n.Lang, e *trace.Event, part string) string {
	key := "step." + strconv.Itoa(e.Step) + "." + part
	switch {
	case e.Nonblock && l.Has(key+".nonblock"):
		return key + ".nonblock"
	case e.Op == trace.OpClose && e.Remote == "" && l.Has(key+".unconnected"):
		return key + ".unconnected"
	}
	return key
}

// helpText is a flag's help: a catalogue key and its arguments, said in
// the language --lang picks, which is known only after parsing.
type helpText struct {
	key  string
	args []any
}

// stringFlag adds a flag that takes a value; help is a catalogue key.
func (c *command) stringFlag(p *string, name, takes, value, help string, helpArgs ...any) {
	c.fs.StringVar(p, name, value, help)
	c.values[name] = takes
	c.help[name] = helpText{help, helpArgs}
}

// durationFlag adds a flag that takes a duration, like 10s or 500ms; help
// is a catalogue key. *p holds the default.
func (c *command) durationFlag(p *time.Duration, name, help string) {
	c.fs.Func(name, help, func(s string) error {
		d, err := time.ParseDuration(s)
		if err != nil {
			return errors.New("err.timeout_invalid") // a key: flagError says it
		}
		*p = d
		return nil
	})
	c.values[name], c.help[name] = "DURATION", helpText{key: help}
}

// boolFlag adds a flag that is on or off; help is a catalogue key.
func (c *command) boolFlag(p *bool, name, help string) {
	c.fs.BoolVar(p, name, false, help)
	c.help[name] = helpText{key: help}
}

// lessonFlags adds the flags of `socklab run`.
func (c *command) lessonFlags() (message, reply *string, clients *int) {
	c.traceFlags()
	message, reply = new(string), new(string)
	c.stringFlag(message, "message", "TEXT", lessons.DefaultMessage, "flag.message.run", lessons.DefaultMessage)
	c.stringFlag(reply, "reply", "TEXT", lessons.DefaultReply, "flag.reply.run", lessons.DefaultReply)
	clients = new(int)
	*clients = lessons.DefaultClients
	c.fs.Func("clients", "flag.clients", func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return errors.New("why.int") // a key: flagError says it
		}
		*clients = n
		return nil
	})
	c.values["clients"], c.help["clients"] = "N", helpText{key: "flag.clients"}
	c.boolFlag(&c.web, "web", "flag.web")
	return message, reply, clients
}

func (c *command) printFlags(w io.Writer) {
	l := c.env.lang
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	c.fs.VisitAll(func(f *flag.Flag) {
		help := l.T(c.help[f.Name].key, c.help[f.Name].args...)
		if takes := c.values[f.Name]; takes != "" {
			fmt.Fprintf(tw, "  --%s=%s\t%s\n", f.Name, takes, help)
		} else {
			fmt.Fprintf(tw, "  --%s\t%s\n", f.Name, help)
		}
	})
	tw.Flush()
}

func (c *command) printUsage() {
	l, w := c.env.lang, c.env.stdout
	name := c.name
	if name == "run" || name == "web" {
		name += " [LESSON]" // the commands that take an argument
	}
	fmt.Fprintln(w, l.T("usage.header", name+" [flags]"))
	if c.synopsis != "" {
		fmt.Fprintf(w, "\n%s\n", l.T(c.synopsis))
	}
	fmt.Fprintf(w, "\n%s\n", l.T("usage.flags"))
	c.printFlags(w)
}

// parse reads flags and, in any order among them, at most maxArgs other
// arguments. It sets the language first, so that what follows is said in
// it. It returns flag.ErrHelp after printing the help if asked.
func (c *command) parse(args []string, maxArgs int) ([]string, error) {
	var rest []string
	for {
		err := c.fs.Parse(args)
		if langErr := c.setLang(); langErr != nil {
			return nil, langErr
		}
		if err != nil {
			if errors.Is(err, flag.ErrHelp) {
				// The flag package stops at --help: a --lang after it
				// still chooses the help's language.
				c.env.lang = withLang(c.env, args).lang
				c.printUsage()
				return nil, err
			}
			return nil, c.flagError(err)
		}
		if err := c.emptyValue(); err != nil {
			return nil, err
		}
		args = c.fs.Args()
		if len(args) == 0 {
			break
		}
		if len(rest) == maxArgs {
			if maxArgs == 0 {
				return nil, usage("hint.see_help", "err.takes_no_args", c.name, args[0]).withHintArgs(c.name)
			}
			return nil, usage("hint.too_many_args", "err.too_many_args", args[0])
		}
		rest, args = append(rest, args[0]), args[1:]
	}
	return rest, nil
}

// emptyValue refuses a choice flag given with nothing after its =, all of
// them alike: --lang= is as wrong as --color=.
func (c *command) emptyValue() error {
	for _, name := range []string{"lang", "color", "format", "layout"} {
		if f := c.fs.Lookup(name); f != nil && f.Value.String() == "" && flagGiven(c.fs, name) {
			return usage("hint."+name, "err.flag_empty", name)
		}
	}
	return nil
}

func (m *message) withHintArgs(args ...any) *message {
	m.hintArgs = args
	return m
}

// setLang applies --lang, if given.
func (c *command) setLang() error {
	if c.lang == "" {
		return nil
	}
	l, ok := i18n.Parse(c.lang)
	if !ok {
		return usage("hint.lang", "err.lang", c.lang)
	}
	c.env.lang = l
	return nil
}

// flagError rewords the flag package's errors for people who type --flags.
func (c *command) flagError(err error) error {
	msg := err.Error()
	see := func(m *message) *message { return m.withHintArgs(c.name) }
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return see(usage("hint.see_help", "err.unknown_flag", "--"+name))
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return see(usage("hint.see_help", "err.flag_needs_value", "--"+name, name))
	}
	// invalid value "soon" for flag -timeout: WHY, where WHY is a key of
	// ours (durationFlag)
	if rest, ok := strings.CutPrefix(msg, "invalid value "); ok {
		if value, rest, ok := strings.Cut(rest, " for flag -"); ok {
			if name, why, ok := strings.Cut(rest, ": "); ok {
				if c.env.lang.Has(why) {
					why = c.env.lang.T(why)
				}
				return see(usage("hint.see_help", "err.flag_invalid", name, value, why))
			}
		}
	}
	// invalid boolean value "x" for -step: parse error
	if rest, ok := strings.CutPrefix(msg, "invalid boolean value "); ok {
		if value, rest, ok := strings.Cut(rest, " for -"); ok {
			name, _, _ := strings.Cut(rest, ":")
			return see(usage("hint.see_help", "err.flag_invalid", name, value, c.env.lang.T("why.bool", name)))
		}
	}
	return see(usage("hint.see_help", "err.flag_invalid", "?", "?", msg))
}

// ignoreHelp turns a request for help, already answered, into success.
func ignoreHelp(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// runLesson runs `socklab run [LESSON] [flags]`.
func runLesson(ctx context.Context, args []string, e *env) error {
	c := newCommand(e, "run", "usage.synopsis.run")
	message, reply, clients := c.lessonFlags()
	rest, err := c.parse(args, 1)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(e.stdout, "\n%s\n", e.lang.T("usage.lessons"))
		return list(e)
	}
	if err != nil {
		return err
	}
	name := defaultLesson
	if len(rest) == 1 {
		name = rest[0]
	}
	lesson, ok := lessons.Lookup(name)
	if !ok {
		return usage("hint.unknown_lesson", "err.unknown_lesson", name)
	}
	for _, option := range []string{"message", "reply", "clients"} {
		if flagGiven(c.fs, option) && !slices.Contains(lesson.Uses, option) {
			return usage("hint.unused_option", "err.unused_option", name, "--"+option)
		}
	}
	if *message == "" {
		return usage("hint.message_empty", "err.message_empty.run")
	}
	if *reply == "" {
		return usage("hint.reply_empty", "err.reply_empty.run")
	}
	if *clients < 1 || *clients > maxClients {
		return usage("hint.clients", "err.clients", *clients)
	}
	if c.web {
		if err := c.webAlone(); err != nil {
			return err
		}
		return serveWeb(ctx, c, c.lessonPage(name, lessons.Options{Message: *message, Reply: *reply, Clients: *clients}), "", defaultHost+":0", false)
	}
	// Each call blocked in the kernel holds a thread (socklab's descriptors
	// block, as the lessons teach them): a client and its server's handler
	// may both be blocked at once, past Go's default bound of 10,000.
	debug.SetMaxThreads(max(10000, 2*(*clients)+1000))
	s, err := c.openSession()
	if err != nil {
		return err
	}
	defer s.Close()
	gate, err := c.gate(ctx, lesson.Script, newLineReader(e.stdin, e.stderr, e.stdinTerminal))
	if err != nil {
		return err
	}
	// A lesson that carries a protocol ends with a table of what crossed
	// the wire, measured from the run's own events.
	var recorded *trace.Recorder
	var also []trace.Sink
	if lesson.Wire != nil && c.format == "text" {
		// The table counts every byte that crossed: keep all the data
		// (a Recorder keeps DefaultDataLimit bytes of each event's).
		recorded = &trace.Recorder{DataLimit: -1}
		also = append(also, recorded)
	}
	tr := s.start(gate, true, also...)
	err = lesson.Run(ctx, tr, lessons.Options{Message: *message, Reply: *reply, Clients: *clients})
	s.Close() // every trace line is out before what follows them
	if err == nil && recorded != nil {
		table, werr := lesson.Wire(recorded.Events())
		if werr != nil {
			return failure("", "err.wire", werr.Error())
		}
		if werr := writeBytesTable(e.stdout, e.lang, lesson.Name, table); werr != nil {
			return failure("", "err.trace_write", werr.Error())
		}
	}
	if tooMany := (*lessons.TooManyClientsError)(nil); errors.As(err, &tooMany) {
		return usage("hint.too_many_clients", "err.too_many_clients", name, tooMany.Max)
	}
	if optErr := (*lessons.OptionError)(nil); errors.As(err, &optErr) {
		return usage("", "err.too_long", e.lang.T("what."+optErr.Option), optErr.Bytes, lessons.ReadBuffer)
	}
	return s.done(err)
}

// defaultLesson is what `socklab` runs: basic, or on Windows, where
// socklab cannot trace raw sockets, the lesson written with the net package.
var defaultLesson = func() string {
	if runtime.GOOS == "windows" {
		return "gonet"
	}
	return "basic"
}()

// maxClients bounds --clients: each client is a socket and a goroutine.
const maxClients = 5000

// fileError says why a file could not be written, in l: the system's
// error by its errno, in words from the catalogue when it has them.
func fileError(l i18n.Lang, err error) string {
	if name := sock.ErrnoName(err); name != "" && l.Has("errno."+name) {
		return l.T("errno."+name) + " (" + name + ")"
	}
	return err.Error()
}

// say renders an error in l: what went wrong and, where we know, what to
// try, on one line. Each error says itself (i18n.Sayer), wherever it is in
// the chain; errors that came together (errors.Join: peers that failed at
// once) are said each in turn.
func say(l i18n.Lang, err error) string {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var parts []string
		for _, e := range joined.Unwrap() {
			parts = append(parts, say(l, e))
		}
		return strings.Join(parts, l.T("line.join"))
	}
	// ErrLessonTooLong is a context cause of a kind shared with causes
	// that have no sentence (lessons/web.go): it cannot say itself yet.
	if errors.Is(err, lessons.ErrLessonTooLong) {
		return l.T("line.hint", l.T("err.lesson_too_long", lessons.WebBound), l.T("hint.lesson_too_long"))
	}
	var s i18n.Sayer
	if errors.As(err, &s) {
		return s.Say(l)
	}
	return err.Error()
}
