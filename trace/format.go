package trace

import (
	"strconv"
	"strings"
	"time"

	"github.com/fatih/color"

	"github.com/socklab/socklab/trace/i18n"
)

// The formatters of a line: what the text and columns sinks write for an
// event, from what an Annotator decided about it, in a language. They
// translate and lay out; they decide nothing.

// appendBody renders what a line says after its time and peer: the step,
// the operation (unless withOp is false: the call names it too), the call,
// its result and notes, the kernel's view, and how long the call blocked
// (with the operation only: the narrow columns keep their room for the
// kernel's view).
func appendBody(b []byte, l i18n.Lang, e *Event, an *Annotation, withOp bool) []byte {
	if e.Packet != nil {
		return appendPacket(b, l, e, an, withOp)
	}
	if e.Step > 0 {
		b = append(b, '[')
		if e.Step < 10 {
			b = append(b, ' ')
		}
		b = strconv.AppendInt(b, int64(e.Step), 10)
		b = append(b, "] "...)
	} else {
		b = append(b, "     "...)
	}
	if withOp {
		b = appendPadded(b, l.T("op."+string(e.Op)), 11)
		b = append(b, ' ')
	}
	b = append(b, an.Call...)
	if e.Phase == End {
		b = appendResult(b, l, e, an)
	}
	for _, n := range an.Notes {
		b = append(append(b, "  "...), n.In(l)...)
	}
	if e.Phase == Begin {
		return b
	}
	b = appendState(b, l, an.State)
	if an.Waited && withOp {
		b = append(append(b, "  "...), l.T("note.returned_after", e.Elapsed.Round(time.Microsecond))...)
	}
	return b
}

// appendResult renders what a call returned, as strace writes it: its
// result and, when it failed, what the errno means.
func appendResult(b []byte, l i18n.Lang, e *Event, an *Annotation) []byte {
	b = append(append(b, ' '), an.Result...)
	switch {
	case e.Err != nil && e.Errno != "" && e.Interrupt != "":
		// Woken by our own shutdown: the errno is the kernel's truth, but
		// its usual words ("reset by peer") would blame a peer.
	case e.Err != nil && e.Errno != "":
		b = append(b, " ("...)
		b = append(b, errnoText(l, e)...)
		b = append(b, ')')
	case e.Err != nil:
		b = append(b, "  "...)
		b = append(b, e.Err.Error()...)
	}
	return b
}

// appendPacket renders a packet of the wire view where a call's step,
// op and call go: its flags (in the op's column), to whom, and its
// numbers as tcpdump writes them (Annotation.Call).
func appendPacket(b []byte, l i18n.Lang, e *Event, an *Annotation, withOp bool) []byte {
	p := e.Packet
	b = append(b, "     "...) // no step: a packet is no call
	if withOp {
		b = appendPadded(b, p.Label(), 11)
		b = append(b, ' ')
	}
	to := p.To
	if p.ToPeer != "" {
		to = PeerLabel(l, p.ToPeer, "")
	}
	if e.Peer == "" { // the sender's address is no socket the trace knows yet
		b = append(append(b, p.From...), ' ')
	}
	b = append(append(b, "→ "...), to...)
	b = append(b, "  "...)
	return append(b, an.Call...)
}

// errnoText is the kernel's error in words: from the catalogue when it has
// the errno, else as the system words it.
func errnoText(l i18n.Lang, e *Event) string {
	if e.Signal != "" {
		return l.T("errno.signal", e.Signal)
	}
	if key := "errno." + e.Errno; l.Has(key) {
		return l.T(key)
	}
	return e.Err.Error()
}

// appendState renders the kernel's view, when the line shows it.
func appendState(b []byte, l i18n.Lang, k *KernelView) []byte {
	if k == nil {
		return b
	}
	b = append(append(b, "  "...), l.T("note.kernel", stateName(l, k.State, k.Timer))...)
	if k.PeerState != "" {
		b = append(b, l.T("note.other_end", stateName(l, k.PeerState, k.PeerTimer))...)
	}
	if strings.HasPrefix(k.From, "/proc/") {
		// The fallback is worth a word: the whole table was read, at a
		// cost that grows with the machine's connections. sock_diag and
		// TCP_INFO, the usual sources, go unsaid (JSON has them all).
		b = append(b, l.T("note.state_from", k.From)...)
	}
	return b
}

func stateName(l i18n.Lang, state string, timer time.Duration) string {
	if timer > 0 {
		return state + l.T("note.left", timer.Round(100*time.Millisecond))
	}
	return state
}

// Peer colours, chosen to read well on a dark terminal and on a projector.
var peerPalette = []color.Attribute{color.FgYellow, color.FgMagenta, color.FgGreen, color.FgBlue}

var errorColor = func() *color.Color {
	c := color.New(color.FgRed, color.Bold)
	c.EnableColor()
	return c
}()

// A painter gives each peer's lines a colour of its own, in the order the
// peers come (servers cyan), and errors red. Its owner locks.
type painter struct {
	colors map[string]*color.Color // by peer name
	others int                     // peers other than servers coloured so far
}

func (p *painter) paint(e *Event, line string) string {
	if e.Err != nil {
		return errorColor.Sprint(line)
	}
	c, ok := p.colors[e.Peer]
	if !ok {
		if p.colors == nil {
			p.colors = make(map[string]*color.Color)
		}
		attr := color.FgCyan
		if e.Role != Server {
			attr = peerPalette[p.others%len(peerPalette)]
			p.others++
		}
		c = color.New(attr)
		c.EnableColor() // per-Color: never flips the package-wide switch
		p.colors[e.Peer] = c
	}
	return c.Sprint(line)
}

func appendMillis(b []byte, d time.Duration) []byte {
	s := strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64)
	for i := len(s); i < 9; i++ {
		b = append(b, ' ')
	}
	return append(append(b, s...), "ms"...)
}

// appendPadded appends s and spaces up to width terminal columns.
func appendPadded(b []byte, s string, width int) []byte {
	b = append(b, s...)
	for i := Width(s); i < width; i++ {
		b = append(b, ' ')
	}
	return b
}

// Width is how many terminal columns s takes: two for each wide (CJK)
// character, one for the others.
func Width(s string) int {
	w := 0
	for _, r := range s {
		w++
		if wide(r) {
			w++
		}
	}
	return w
}

// wide reports whether a terminal shows r two columns wide (East Asian
// Wide and Fullwidth, the ranges that matter for Chinese text).
func wide(r rune) bool {
	switch {
	case r < 0x1100:
		return false
	case r <= 0x115F, r >= 0x2E80 && r <= 0xA4CF && r != 0x303F,
		r >= 0xAC00 && r <= 0xD7A3, r >= 0xF900 && r <= 0xFAFF,
		r >= 0xFE30 && r <= 0xFE4F, r >= 0xFF00 && r <= 0xFF60,
		r >= 0xFFE0 && r <= 0xFFE6, r >= 0x1F300 && r <= 0x1F64F,
		r >= 0x1F900 && r <= 0x1F9FF, r >= 0x20000 && r <= 0x3FFFD:
		return true
	}
	return false
}
