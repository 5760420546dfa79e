package trace

import (
	"cmp"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/socklab/socklab/trace/i18n"
)

// MermaidSink writes a run as a Mermaid sequenceDiagram, which GitHub
// renders in Markdown: each peer a participant, each call a note over its
// peer (with the lesson-plan step), and what crosses between the peers as
// arrows: the handshake when connect returns, the bytes when a read (or
// recvfrom) got them, the end of file when a read returned 0.
//
// It writes as events come, each event's lines in one Write, and keeps
// nothing to write at the end: a diagram cut short is still a diagram, and
// there is no Close.
type MermaidSink struct {
	w    io.Writer
	lang i18n.Lang
	mu   sync.Mutex
	seen map[string]string // peer → its participant id
	last map[string]string // peer → the peer it last exchanged with (for arrows)
	// addrs maps an address to the peer whose socket has it, so that an
	// arrow can name the peer at the other end of a read.
	addrs map[string]string
	// wire is set once a packet of the wire view has come: its arrows are
	// the real packets, and replace those the calls imply.
	wire bool
}

// MermaidOptions changes what a MermaidSink writes; the zero value (or a
// nil pointer) is an English diagram.
type MermaidOptions struct {
	// Lang is the language of the arrows' words and of the peers' names
	// ("客户端" for client); the calls stay as the kernel names them.
	Lang i18n.Lang
}

// NewMermaidSink returns a sink that writes a Mermaid diagram to w.
func NewMermaidSink(w io.Writer, opts *MermaidOptions) *MermaidSink {
	s := &MermaidSink{w: w, lang: i18n.EN, seen: map[string]string{}, last: map[string]string{}, addrs: map[string]string{}}
	if opts != nil && opts.Lang != "" {
		s.lang = opts.Lang
	}
	return s
}

// Handle writes the lines e adds to the diagram.
func (s *MermaidSink) Handle(e Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	if len(s.seen) == 0 {
		b.WriteString("sequenceDiagram\n")
	}
	if e.Packet != nil {
		s.packet(&b, &e)
		_, err := io.WriteString(s.w, b.String())
		return err
	}
	id := s.participant(&b, e.Peer, e.Role)
	if e.Local != "" {
		s.addrs[e.Local] = e.Peer
	}
	if e.Phase == End && !s.wire {
		other := s.addrs[e.Remote]
		switch {
		case (e.Op == OpConnect && e.Err == nil || e.Connected) && other != "":
			// Where the client learns it is connected: connect's return,
			// or the SO_ERROR that a non-blocking connect's program asks.
			fmt.Fprintf(&b, "    %s->>%s: %s\n", id, s.participant(&b, other, ""), mermaidText(s.lang.T("mermaid.handshake")))
		case (e.Op == OpRead || e.Op == OpRecvfrom) && e.Err == nil && e.Interrupt == "" && other != "":
			label := s.lang.T("mermaid.eof")
			if !e.EOF() {
				preview, _ := Preview(e.Data, 24)
				label = s.lang.T("mermaid.bytes", e.N, preview)
			}
			fmt.Fprintf(&b, "    %s->>%s: %s\n", s.participant(&b, other, ""), id, mermaidText(label))
		}
	}
	if shown(&e) && !(e.Phase == Begin && e.Op.Blocks()) {
		fmt.Fprintf(&b, "    Note over %s: %s\n", id, mermaidText(s.noteText(&e)))
	}
	_, err := io.WriteString(s.w, b.String())
	return err
}

// packet draws a packet of the wire view as an arrow from its sender to
// its receiver: flags, relative seq and ack, and the bytes it carried.
// A packet whose sender or receiver the trace does not know is a note.
func (s *MermaidSink) packet(b *strings.Builder, e *Event) {
	s.wire = true
	p := e.Packet
	label := p.Label()
	if p.Proto == "tcp" {
		label += fmt.Sprintf(" seq %d", p.Seq)
		if strings.Contains(p.Flags, "ACK") {
			label += fmt.Sprintf(", ack %d", p.Ack)
		}
	}
	if e.N > 0 {
		preview, _ := Preview(e.Data, 24)
		label += ", " + s.lang.T("mermaid.bytes", e.N, preview)
	}
	if e.Peer == "" || p.ToPeer == "" {
		fmt.Fprintf(b, "    Note over %s: %s\n", s.participant(b, cmp.Or(e.Peer, p.ToPeer, p.From), e.Role), mermaidText(label+" → "+p.To))
		return
	}
	from := s.participant(b, e.Peer, e.Role)
	fmt.Fprintf(b, "    %s->>%s: %s\n", from, s.participant(b, p.ToPeer, ""), mermaidText(label))
}

// participant returns the diagram's id for a peer, declaring it the first
// time, named in the sink's language (a peer seen first at the other end
// of an arrow, its role unknown, by the role its name starts with).
func (s *MermaidSink) participant(b *strings.Builder, peer string, role Role) string {
	if id, ok := s.seen[peer]; ok {
		return id
	}
	id := fmt.Sprintf("P%d", len(s.seen)+1)
	s.seen[peer] = id
	name := PeerLabel(s.lang, peer, role)
	fmt.Fprintf(b, "    participant %s as %s\n", id, mermaidText(name))
	return id
}

// noteText is the call, shortly: step, call and result.
func (s *MermaidSink) noteText(e *Event) string {
	var b strings.Builder
	if e.Step > 0 {
		fmt.Fprintf(&b, "[%d] ", e.Step)
	}
	b.WriteString(e.Syscall)
	switch {
	case e.Phase == Begin && (e.Op == OpWrite || e.Op == OpSendto):
		b.WriteString(" " + s.lang.T("mermaid.bytes_written", len(e.Data)))
	case e.Phase == Begin:
	case e.Err != nil && e.Errno != "":
		b.WriteString(" = -1 " + e.Errno)
	case e.Err != nil:
		b.WriteString(" " + s.lang.T("mermaid.failed"))
	default:
		fmt.Fprintf(&b, " = %d", e.Ret)
	}
	switch {
	case e.Kernel.State == "":
	case e.Op == OpListen, e.Op == OpConnect, e.Op == OpAccept, e.Op == OpClose, e.EOF():
		// The states that change the story; ESTABLISHED after every
		// read would hide them.
		b.WriteString(" · " + e.Kernel.State)
		if e.Kernel.PeerState != "" {
			b.WriteString(s.lang.T("mermaid.other_end", e.Kernel.PeerState))
		}
	}
	return b.String()
}

// mermaidText makes text safe inside a Mermaid message or note: no line
// breaks, no characters Mermaid reads as syntax (; # and the like are
// written as entity codes, as Mermaid expects).
func mermaidText(s string) string {
	r := strings.NewReplacer(
		"\n", " ", "\r", " ",
		";", "#59;", "#", "#35;",
		"<", "#lt;", ">", "#gt;",
	)
	return r.Replace(s)
}
