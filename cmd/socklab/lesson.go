package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"

	"github.com/socklab/socklab/internal/report"
	"github.com/socklab/socklab/lessons"
	pytwin "github.com/socklab/socklab/lessons/python"
	"github.com/socklab/socklab/trace"
)

// runLesson runs `socklab run [LESSON] [flags]`.
func runLesson(ctx context.Context, args []string, e *env) error {
	if slices.Contains(args, "--python") { // the lesson's Python twin, traced
		return runTwin(ctx, args, e)
	}
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
	c.preview = lesson.Preview
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
	if lesson.Traffic != nil && c.format == "text" {
		// The table counts every byte that crossed: keep all the data
		// (a Recorder keeps DefaultDataLimit bytes of each event's).
		recorded = &trace.Recorder{DataLimit: -1}
		also = append(also, recorded)
	}
	tr := s.start(gate, true, also...)
	err = lesson.Run(ctx, tr, lessons.Options{Message: *message, Reply: *reply, Clients: *clients})
	s.Close() // every trace line is out before what follows them
	if err == nil && recorded != nil {
		table, werr := lesson.Traffic(recorded.Events())
		if werr != nil {
			return failure("", "err.wire", werr.Error())
		}
		if werr := report.Traffic(e.stdout, e.lang, lesson.Name, table); werr != nil {
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

// runTwin runs `socklab run [LESSON] --python [flags]`: the lesson's Python
// twin (lessons/python), played as socklab trace plays a class's programs,
// with the lesson's expectation when it has one (pytwin.TraceArgs).
func runTwin(ctx context.Context, args []string, e *env) error {
	targs, cleanup, err := pytwin.TraceArgs(args, defaultLesson, func(name string) bool { l, _ := lessons.Lookup(name); return l.Expect != nil })
	if u := (*pytwin.UsageError)(nil); errors.As(err, &u) {
		return usage(u.Hint, u.Key, u.Args...).withHintArgs(u.HintArgs...)
	} else if err != nil {
		return err
	}
	defer cleanup()
	return runTrace(ctx, targs, e)
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
	c.boolFlag(new(bool), "python", "flag.run_python") // runLesson hands it to runTwin
	return message, reply, clients
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
