// Package runsession holds what one traced run of socklab owns: the
// trace's sink behind its queue, the --pcap file, the tracer and the wire
// view (the packet capture). The command opens a Session once its flags
// are read, starts it with its gate (Start), and closes it once: Close
// stops the capture (its last packets still go to the trace), drains the
// queue and closes the pcap file, in that order, whatever way the run
// ended. Close may be called again, and returns what it found the first
// time.
package runsession

import (
	"cmp"
	"errors"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/wire"
)

// A Session is one run's resources.
type Session struct {
	Sink  trace.Sink       // what the tracer writes to
	Queue *trace.AsyncSink // the trace's queue; nil for a page's run
	// Wire asks for the wire view (--wire or --pcap): capture the packets.
	Wire bool
	// Warn says one line of the catalogue's beside the trace (the wire
	// view's warnings).
	Warn    func(key string, args ...any)
	Tracer  *trace.Tracer // once Start made it
	pcapEnd func() error  // closes the --pcap file, if there is one
	wireEnd func()        // ends the capture, once Start began it
	closed  bool
	err     error // what Close found
}

// Start makes the run's tracer, with gate (nil: none) and, if kernel, the
// kernel's view of each socket, and starts the wire view if asked. The
// sinks also are beside the queue: they see each event as it happens.
func (s *Session) Start(gate trace.Gate, kernel bool, also ...trace.Sink) *trace.Tracer {
	sink := s.Sink
	if len(also) > 0 {
		sink = trace.Multi(append([]trace.Sink{sink}, also...)...)
	}
	s.Tracer = trace.New(sink).SetKernelState(kernel).SetGate(gate)
	s.startWire()
	return s.Tracer
}

// Close ends the run's resources, in their order: the capture, the
// trace's queue (every line is out), the pcap file (the last packet is
// in it). It returns the first error of the trace's writing.
func (s *Session) Close() error {
	if s.closed {
		return s.err
	}
	s.closed = true
	s.stopWire()
	if s.Queue != nil {
		s.err = s.Queue.Close()
	}
	if s.pcapEnd != nil {
		s.err = cmp.Or(s.err, s.pcapEnd())
	}
	return s.err
}

// FlushFirst is a writer that flushes a trace's queue before each write:
// what the command writes to standard error (a prompt, a warning, the
// final error line) comes after the trace lines queued before it.
type FlushFirst struct {
	W     io.Writer
	Trace *trace.AsyncSink
}

func (f FlushFirst) Write(p []byte) (int, error) {
	f.Trace.Flush()
	return f.W.Write(p)
}

// SocketCount is a sink that counts the sockets a run made.
type SocketCount struct{ n atomic.Int64 }

// Handle counts e if it made a socket.
func (c *SocketCount) Handle(e trace.Event) error {
	if e.Phase == trace.End && (e.Op == trace.OpCreate || e.Op == trace.OpAccept) && e.Ret >= 0 {
		c.n.Add(1)
	}
	return nil
}

// N returns the sockets counted so far.
func (c *SocketCount) N() int64 { return c.n.Load() }

// startWire starts the wire view for the run when Wire asks for it;
// stopWire ends it. A run that cannot have the wire (no CAP_NET_RAW,
// another system) goes on without it, after one line saying why and what
// to do.
func (s *Session) startWire() {
	if !s.Wire {
		return
	}
	capture, err := wire.Open(s.Tracer)
	switch {
	case errors.Is(err, wire.ErrNotPermitted):
		s.Warn("warn.wire_permission")
		return
	case errors.Is(err, wire.ErrUnsupported):
		s.Warn("warn.wire_unsupported")
		return
	case err != nil:
		s.Warn("warn.wire_failed", err.Error())
		return
	}
	s.wireEnd = func() {
		sum, err := capture.Close()
		if err != nil {
			s.Warn("warn.wire_failed", err.Error())
		}
		if sum.Watched == 0 {
			s.Warn("warn.wire_no_ports")
		}
		if sum.Dropped > 0 {
			s.Warn("warn.wire_dropped", sum.Dropped)
		}
		if sum.ClockMoved > clockTolerance {
			s.Warn("warn.wire_clock", sum.ClockMoved)
		}
	}
}

// stopWire ends the wire view, once the run is over and before the trace's
// queue is closed: the last packets are handed over, and a line says if
// any were not shown or if the clock moved.
func (s *Session) stopWire() {
	if end := s.wireEnd; end != nil {
		s.wireEnd = nil
		end()
	}
}

// clockTolerance is how far the wall clock may move against the monotonic
// one during a run before the packets' times are said to be off: less
// than the shortest gap between a call and its packet.
const clockTolerance = time.Microsecond

// OpenPcap opens the --pcap file name and returns sink with the file's
// sink beside it. --pcap needs the packets: it turns the wire view on.
func (s *Session) OpenPcap(name string, sink trace.Sink) (trace.Sink, error) {
	f, err := os.Create(name)
	if err != nil {
		return nil, err
	}
	ps, err := wire.NewPcapSink(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	s.Wire = true
	s.pcapEnd = func() error { return errors.Join(ps.Close(), f.Close()) }
	return trace.Multi(sink, ps), nil
}

// Capturing reports whether the wire view's capture is running: Wire asked
// for it and it started (it needs CAP_NET_RAW).
func (s *Session) Capturing() bool { return s.wireEnd != nil }
