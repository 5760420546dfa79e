package main

import (
	"cmp"
	"errors"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/socklab/socklab/lessons"
	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/wire"
)

// A session is what one traced run holds: the trace's sink behind its
// queue, the --pcap file, the tracer and the wire view (the packet
// capture). A command opens it once its flags are read (openSession),
// starts it with its gate (start), and closes it once: Close stops the
// capture (its last packets still go to the trace), drains the queue and
// closes the pcap file, in that order, whatever way the run ended. Close
// may be called again, and returns what it found the first time.
type session struct {
	env     *env
	sink    trace.Sink       // what the tracer writes to
	queue   *trace.AsyncSink // the trace's queue; nil for a page's run
	pcapEnd func() error     // closes the --pcap file, if there is one
	wire    bool             // --wire or --pcap: capture the packets
	wireEnd func()           // ends the capture, once start began it
	tr      *trace.Tracer
	closed  bool
	err     error // what Close found
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
	s := &session{env: c.env, wire: c.wire}
	if c.pcap != "" {
		if sink, err = s.openPcap(c.pcap, sink); err != nil {
			return nil, err
		}
	}
	e := c.env
	e.textTrace = c.format == "text"
	e.made = new(socketCount)
	s.queue = trace.Async(trace.Multi(sink, e.made), traceQueue)
	e.stderr = flushFirst{e.stderr, s.queue}
	s.sink = s.queue
	return s, nil
}

// pageSession is the session of a run shown on a page: sink is the
// page's own, with no queue and no pcap file; the run's sockets are
// counted.
func (c *command) pageSession(sink trace.Sink) *session {
	return &session{env: c.env, sink: trace.Multi(sink, c.env.made), wire: c.wire}
}

// start makes the run's tracer, with gate (nil: none) and, if kernel, the
// kernel's view of each socket, and starts the wire view if asked. The
// sinks also are beside the queue: they see each event as it happens.
func (s *session) start(gate trace.Gate, kernel bool, also ...trace.Sink) *trace.Tracer {
	sink := s.sink
	if len(also) > 0 {
		sink = trace.Multi(append([]trace.Sink{sink}, also...)...)
	}
	s.tr = trace.New(sink).SetKernelState(kernel).SetGate(gate)
	s.startWire()
	return s.tr
}

// Close ends the run's resources, in their order: the capture, the
// trace's queue (every line is out), the pcap file (the last packet is
// in it). It returns the first error of the trace's writing.
func (s *session) Close() error {
	if s.closed {
		return s.err
	}
	s.closed = true
	s.stopWire()
	if s.queue != nil {
		s.err = s.queue.Close()
	}
	if s.pcapEnd != nil {
		s.err = cmp.Or(s.err, s.pcapEnd())
	}
	return s.err
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

// flushFirst is a writer that flushes a trace's queue before each write.
type flushFirst struct {
	w     io.Writer
	trace *trace.AsyncSink
}

func (f flushFirst) Write(p []byte) (int, error) {
	f.trace.Flush()
	return f.w.Write(p)
}

// socketCount is a sink that counts the sockets a run made.
type socketCount struct{ n atomic.Int64 }

func (c *socketCount) Handle(e trace.Event) error {
	if e.Phase == trace.End && (e.Op == trace.OpCreate || e.Op == trace.OpAccept) && e.Ret >= 0 {
		c.n.Add(1)
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
		// A lesson that teaches its bytes (HTTP headers) shows them
		// whole. Otherwise the sink's default, which shrinks to fit a
		// narrow terminal.
		preview := c.preview
		if c.name == "server" || c.name == "client" {
			preview = lessons.ReadBuffer
		}
		opts := trace.TextOptions{Color: useColor, Lang: c.env.lang, Explain: c.explain, Preview: preview, Width: c.env.termWidth}
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

// startWire starts the wire view for the run when --wire or --pcap asks
// for it; stopWire ends it. A run that cannot have the wire (no
// CAP_NET_RAW, another system) goes on without it, after one line saying
// why and what to do.
func (s *session) startWire() {
	if !s.wire {
		return
	}
	capture, err := wire.Open(s.tr)
	switch {
	case errors.Is(err, wire.ErrNotPermitted):
		s.env.warn("warn.wire_permission")
		return
	case errors.Is(err, wire.ErrUnsupported):
		s.env.warn("warn.wire_unsupported")
		return
	case err != nil:
		s.env.warn("warn.wire_failed", err.Error())
		return
	}
	s.wireEnd = func() {
		sum, err := capture.Close()
		if err != nil {
			s.env.warn("warn.wire_failed", err.Error())
		}
		if sum.Watched == 0 {
			s.env.warn("warn.wire_no_ports")
		}
		if sum.Dropped > 0 {
			s.env.warn("warn.wire_dropped", sum.Dropped)
		}
		if sum.ClockMoved > clockTolerance {
			s.env.warn("warn.wire_clock", sum.ClockMoved)
		}
	}
}

// stopWire ends the wire view, once the run is over and before the trace's
// queue is closed: the last packets are handed over, and a line says if
// any were not shown or if the clock moved.
func (s *session) stopWire() {
	if end := s.wireEnd; end != nil {
		s.wireEnd = nil
		end()
	}
}

// clockTolerance is how far the wall clock may move against the monotonic
// one during a run before the packets' times are said to be off: less
// than the shortest gap between a call and its packet.
const clockTolerance = time.Microsecond

// openPcap opens the --pcap file and returns sink with the file's sink
// beside it. --pcap needs the packets: it turns the wire view on.
func (s *session) openPcap(name string, sink trace.Sink) (trace.Sink, error) {
	f, err := os.Create(name)
	if err != nil {
		return nil, failure("hint.pcap", "err.pcap", name, fileError(s.env.lang, err))
	}
	ps, err := wire.NewPcapSink(f)
	if err != nil {
		f.Close()
		return nil, failure("hint.pcap", "err.pcap", name, fileError(s.env.lang, err))
	}
	s.wire = true
	s.pcapEnd = func() error { return errors.Join(ps.Close(), f.Close()) }
	return trace.Multi(sink, ps), nil
}
