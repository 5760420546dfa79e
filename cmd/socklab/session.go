package main

import (
	"cmp"

	"github.com/socklab/socklab/internal/runsession"
	"github.com/socklab/socklab/lessons"
	"github.com/socklab/socklab/trace"
)

// A session is what one traced run holds (runsession.Session): the
// trace's sink behind its queue, the --pcap file, the tracer and the wire
// view, started once and closed once.
type session struct {
	*runsession.Session
	tr *trace.Tracer // once start made it
}

// traceQueue is how many events the trace's queue holds: more than any
// lesson's burst (basic makes about 50), so that a slow terminal holds no
// call of a lesson; the concurrent lesson's hundreds of clients may fill
// it, and then go at the terminal's pace (trace.AsyncSink keeps every
// event).
const traceQueue = 1024

// openSession opens the trace's sink: the one --format asks for and, with
// --pcap, the capture file's beside it, behind a queue, so that a slow
// terminal does not hold the socket calls (see trace.Async). From then
// on, whatever the command writes to standard error (a step's prompt, a
// warning, the final error line) first waits until the trace lines queued
// before it are out: the terminal reads in the order things happened.
func (c *command) openSession() (*session, error) {
	sink, err := c.formatSink()
	if err != nil {
		return nil, err
	}
	s := &session{Session: &runsession.Session{Wire: c.wire, Warn: c.env.warn}}
	if c.pcap != "" {
		if sink, err = s.OpenPcap(c.pcap, sink); err != nil {
			return nil, failure("hint.pcap", "err.pcap", c.pcap, fileError(c.env.lang, err))
		}
	}
	e := c.env
	e.textTrace = c.format == "text"
	e.made = new(runsession.SocketCount)
	s.Queue = trace.Async(trace.Multi(sink, e.made), traceQueue)
	e.stderr = runsession.FlushFirst{W: e.stderr, Trace: s.Queue}
	s.Sink = s.Queue
	return s, nil
}

// pageSession is the session of a run shown on a page: sink is the
// page's own, with no queue and no pcap file; the run's sockets are
// counted.
func (c *command) pageSession(sink trace.Sink) *session {
	return &session{Session: &runsession.Session{Sink: trace.Multi(sink, c.env.made), Wire: c.wire, Warn: c.env.warn}}
}

// start makes the run's tracer (runsession.Session.Start).
func (s *session) start(gate trace.Gate, kernel bool, also ...trace.Sink) *trace.Tracer {
	s.tr = s.Start(gate, kernel, also...)
	return s.tr
}

// done closes the session and adds to a run's error the trace's own: a
// trace that could not be written (standard output closed) is a failure
// too. It is called before the exit status is decided and before any
// error line is printed.
func (s *session) done(err error) error {
	traceErr := s.Close()
	if err != nil {
		return err
	}
	if err := cmp.Or(traceErr, s.tr.Err()); err != nil {
		return failure("", "err.trace_write", err.Error())
	}
	return nil
}

// The two-column view needs room: by default it is chosen on terminals at
// least columnsMinWidth wide; asked for where the width is not known (a
// pipe), it is defaultColumnsWidth wide.
const (
	columnsMinWidth     = 100
	defaultColumnsWidth = 100
)

// formatSink returns the sink --format, --color, --lang and --explain ask for.
func (c *command) formatSink() (trace.Sink, error) {
	useColor, err := c.colorOn()
	if err != nil {
		return nil, err
	}
	switch c.format {
	case "text":
		// server and client show a whole read buffer: a teacher must be
		// able to read the message a student sent, to answer it. A
		// lesson's bytes are its own: a line shows their start and how
		// many more there are, not a wall of a thousand digits.
		// A lesson's own preview is shown whole; the default shrinks to a narrow terminal.
		preview := c.preview
		if c.name == "server" || c.name == "client" {
			preview = lessons.ReadBuffer
		}
		opts := trace.TextOptions{Color: useColor, Lang: c.env.lang, Explain: c.explain, Preview: preview, Width: c.env.termWidth, ClockOfDay: c.clock == "day"}
		switch layout := c.layout; {
		// Two columns by default only where there are two peers to show:
		// socklab server and socklab client trace one.
		case layout == "columns" || layout == "" && c.env.termWidth >= columnsMinWidth && (c.name == "run" || c.name == "trace"):
			return trace.NewColumnsSink(c.env.stdout, &trace.ColumnsOptions{TextOptions: opts, Width: cmp.Or(c.env.termWidth, defaultColumnsWidth)}), nil
		case layout == "lines" || layout == "":
			return trace.NewTextSink(c.env.stdout, &opts), nil
		}
		return nil, usage("hint.layout", "err.layout", c.layout)
	case "json":
		return trace.NewJSONSink(c.env.stdout, &trace.JSONOptions{Explain: c.explain}), nil
	case "mermaid":
		return trace.NewMermaidSink(c.env.stdout, &trace.MermaidOptions{Lang: c.env.lang}), nil
	}
	return nil, usage("hint.format", "err.format", c.format)
}
