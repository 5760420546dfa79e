package wire

import (
	"fmt"
	"io"
	"sync"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/socklab/socklab/trace"
)

// A PcapSink writes the packets of a trace as a pcapng file that
// Wireshark, tshark and tcpdump read: each packet as it was captured, at
// the kernel's stamp, marked outbound (the copy loopback sends), with a
// comment naming the call it came after ("after client connect(9)
// began"), so that the capture reads with the trace beside it. It takes
// every event (the calls say what the comments name) and writes only
// packets. Close flushes it.
type PcapSink struct {
	mu   sync.Mutex
	w    *pcapgo.NgWriter
	last string // the latest call, as a comment names it
}

// NewPcapSink writes a pcapng section for loopback's packets to w.
func NewPcapSink(w io.Writer) (*PcapSink, error) {
	intf := pcapgo.DefaultNgInterface
	intf.Name, intf.LinkType, intf.Description = "lo", layers.LinkTypeEthernet, "loopback, the outgoing copy of each packet"
	opts := pcapgo.DefaultNgWriterOptions
	opts.SectionInfo.Application = "socklab"
	ng, err := pcapgo.NewNgWriterInterface(w, intf, opts)
	if err != nil {
		return nil, err
	}
	return &PcapSink{w: ng}, nil
}

// Handle writes e if it is a packet, and remembers it if it is a call.
func (s *PcapSink) Handle(e trace.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := e.Packet
	if p == nil {
		s.last = callComment(&e)
		return nil
	}
	if len(p.Frame) == 0 {
		return nil // a packet without its frame: nothing to write
	}
	opts := pcapgo.NgPacketOptions{Flags: &pcapgo.NgEpbFlags{Direction: pcapgo.NgEpbFlagDirectionOutbound}}
	if s.last != "" {
		opts.Comments = []string{"after " + s.last}
	}
	ci := gopacket.CaptureInfo{Timestamp: p.Sent, CaptureLength: len(p.Frame), Length: len(p.Frame)}
	return s.w.WritePacketWithOptions(ci, p.Frame, opts)
}

// Close writes out what is buffered.
func (s *PcapSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Flush()
}

// callComment names a call as a packet's comment does: "client [5]
// connect(9) began", "server [8] accept4(3) returned".
func callComment(e *trace.Event) string {
	step := ""
	if e.Step > 0 {
		step = fmt.Sprintf("[%d] ", e.Step)
	}
	what := "returned"
	if e.Phase == trace.Begin {
		what = "began"
	}
	fd := ""
	if e.FD >= 0 {
		fd = fmt.Sprint(e.FD)
	}
	return fmt.Sprintf("%s %s%s(%s) %s", e.Peer, step, e.Syscall, fd, what)
}
