package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/socklab/socklab/trace/i18n"
)

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
	web      bool   // run --web: the run goes to a browser page
	preview  int    // bytes of data a line shows, whole: a lesson's own (Lesson.Preview), or 0
	clock    string // server and client: "run" (since the run began) or "day" (since local midnight, one clock for both)
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

func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			given = true
		}
	})
	return given
}

// stringList is a flag that may be given more than once.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ", ") }

func (l *stringList) Set(s string) error {
	*l = append(*l, s)
	return nil
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
