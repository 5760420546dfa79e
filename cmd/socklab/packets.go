package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/i18n"
	"github.com/socklab/socklab/trace/sock"
	"github.com/socklab/socklab/trace/wire"
)

// startWire starts the wire view for tr's run when --wire asks for it;
// stopWire ends it. A run that cannot have the wire (no CAP_NET_RAW,
// another system) goes on without it, after one line saying why and what
// to do.
func (c *command) startWire(tr *trace.Tracer) {
	if !c.wire {
		return
	}
	l := c.env.lang
	capture, err := wire.Open(tr)
	switch {
	case errors.Is(err, wire.ErrNotPermitted):
		fmt.Fprintln(c.env.stderr, l.T("line.error", l.T("warn.wire_permission")))
		return
	case errors.Is(err, wire.ErrUnsupported):
		fmt.Fprintln(c.env.stderr, l.T("line.error", l.T("warn.wire_unsupported")))
		return
	case err != nil:
		fmt.Fprintln(c.env.stderr, l.T("line.error", l.T("warn.wire_failed", err.Error())))
		return
	}
	c.wireEnd = func() {
		sum, err := capture.Close()
		if err != nil {
			fmt.Fprintln(c.env.stderr, l.T("line.error", l.T("warn.wire_failed", err.Error())))
		}
		if sum.Watched == 0 {
			fmt.Fprintln(c.env.stderr, l.T("line.error", l.T("warn.wire_no_ports")))
		}
		if sum.Dropped > 0 {
			fmt.Fprintln(c.env.stderr, l.T("line.error", l.T("warn.wire_dropped", sum.Dropped)))
		}
		if sum.ClockMoved > clockTolerance {
			fmt.Fprintln(c.env.stderr, l.T("line.error", l.T("warn.wire_clock", sum.ClockMoved)))
		}
	}
}

// stopWire ends the wire view, once the run is over and before the trace's
// queue is closed: the last packets are handed over, and a line says if
// any were not shown or if the clock moved.
func (c *command) stopWire() {
	if end := c.wireEnd; end != nil {
		c.wireEnd = nil
		end()
	}
}

// clockTolerance is how far the wall clock may move against the monotonic
// one during a run before the packets' times are said to be off: less
// than the shortest gap between a call and its packet.
const clockTolerance = time.Microsecond

// pcapSink opens the --pcap file and returns s with the file's sink
// beside it. --pcap needs the packets: it turns the wire view on.
func (c *command) pcapSink(s trace.Sink) (trace.Sink, error) {
	f, err := os.Create(c.pcap)
	if err != nil {
		return nil, failure("hint.pcap", "err.pcap", c.pcap, fileError(c.env.lang, err))
	}
	ps, err := wire.NewPcapSink(f)
	if err != nil {
		f.Close()
		return nil, failure("hint.pcap", "err.pcap", c.pcap, fileError(c.env.lang, err))
	}
	c.wire = true
	c.pcapEnd = func() error { return errors.Join(ps.Close(), f.Close()) }
	return trace.Multi(s, ps), nil
}

// closePcap writes out and closes the --pcap file, once the trace's last
// packet is in it.
func (c *command) closePcap() error {
	end := c.pcapEnd
	c.pcapEnd = nil
	if end == nil {
		return nil
	}
	return end()
}

// fileError says why a file could not be written, in l: the system's
// error by its errno, in words from the catalogue when it has them.
func fileError(l i18n.Lang, err error) string {
	if name := sock.ErrnoName(err); name != "" && l.Has("errno."+name) {
		return l.T("errno."+name) + " (" + name + ")"
	}
	return err.Error()
}
