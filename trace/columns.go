package trace

import (
	"io"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/socklab/socklab/trace/i18n"
)

// ColumnsOptions configures [NewColumnsSink]. The zero value is the default.
type ColumnsOptions struct {
	TextOptions
	// Width is the width of the terminal in columns; 0 means 100. No line
	// is ever longer: what does not fit in a column goes on its next line.
	Width int
}

// ColumnsSink shows a run as two columns, the server on the left and the
// client on the right, each line in its peer's column, and the bytes that
// cross between them as an arrow across the middle:
//
//	[ 9] write   write(5, "hi", 2)
//	◀────────────── 2 bytes "hi" ──────────────
//
// It shows the same lines as [TextSink], without their times.
type ColumnsSink struct {
	w     io.Writer
	width int
	opts  TextOptions

	mu      sync.Mutex
	ann     *Annotator      // what each event means
	painter painter         // each peer's colour
	told    map[string]bool // explanations already given
	started bool            // the header is out
}

// NewColumnsSink returns a sink that writes two columns to w. opts may be nil.
func NewColumnsSink(w io.Writer, opts *ColumnsOptions) *ColumnsSink {
	var o ColumnsOptions
	if opts != nil {
		o = *opts
	}
	if o.Width <= 0 {
		o.Width = 100
	}
	if o.Preview <= 0 {
		o.Preview = DefaultPreview
	}
	if o.Lang == "" {
		o.Lang = i18n.EN
	}
	// A quoted preview is one word: the default must fit in a column's
	// line (one Preview sets is shown whole).
	preview := o.Preview
	if opts == nil || opts.Preview <= 0 {
		preview = min(preview, max(8, o.Width/2-cellIndent-20))
	}
	return &ColumnsSink{w: w, width: o.Width, opts: o.TextOptions, told: make(map[string]bool),
		ann: NewAnnotator(&AnnotateOptions{Preview: preview, Lang: o.Lang, Explain: o.Explain})}
}

// Handle writes e's line, and an arrow when bytes (or the end of the
// stream) arrived, in one Write.
func (s *ColumnsSink) Handle(e Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	an := s.ann.Annotate(&e)
	if !an.Shown {
		return nil
	}
	key, l := an.Explain, s.opts.Lang
	if e.Packet != nil {
		return s.packet(&e, key)
	}

	half := s.width / 2
	left := e.Role == Server
	cellWidth := half - 1
	if !left {
		cellWidth = s.width - half
	}
	// What does not fit wraps onto the next lines of the column, under
	// the call: a state, an errno or a note is what the class is asked
	// about, and must never be cut.
	cells := wrapCell(string(appendBody(nil, l, &e, &an, false)), cellWidth, cellIndent)
	var out strings.Builder
	if !s.started {
		s.started = true
		server, client := l.T("peer.server"), l.T("peer.client")
		out.WriteString(server + strings.Repeat(" ", max(1, half-Width(server))) + client + "\n")
		out.WriteString(strings.Repeat("─", half-1) + " " + strings.Repeat("─", s.width-half) + "\n")
	}
	if src := e.Source.String(); src != "" && firstLine(&e) {
		// The program's line that made the call, under it, in its column.
		cells = append(cells, wrapCell(src, cellWidth, cellIndent)...)
	}
	for _, cell := range cells {
		if s.opts.Color {
			cell = s.painter.paint(&e, cell)
		}
		if !left {
			out.WriteString(strings.Repeat(" ", half))
		}
		out.WriteString(cell)
		out.WriteByte('\n')
	}
	if s.opts.Explain && key != "" && !s.told[key] {
		s.told[key] = true
		for i, part := range Wrap(l.T(key), cellWidth-2) {
			if !left {
				out.WriteString(strings.Repeat(" ", half))
			}
			if i == 0 {
				out.WriteString("↳ ")
			} else {
				out.WriteString("  ")
			}
			out.WriteString(part)
			out.WriteByte('\n')
		}
	}
	if arrow := s.arrow(&e); arrow != "" {
		out.WriteString(arrow)
		out.WriteByte('\n')
	}
	_, err := io.WriteString(s.w, out.String())
	return err
}

// packet draws a packet of the wire view as an arrow from its sender's
// column to its receiver's, and its explanation under it, centred.
func (s *ColumnsSink) packet(e *Event, key string) error {
	l := s.opts.Lang
	label := e.Packet.Label() + "  " + string(appendPacketFields(nil, l, e, max(8, s.width/4)))
	fromServer := e.Role == Server || e.Role == "" && strings.HasPrefix(e.Packet.ToPeer, string(Client))
	var out strings.Builder
	out.WriteString(s.across(label, fromServer))
	out.WriteByte('\n')
	if s.opts.Explain && key != "" && !s.told[key] {
		s.told[key] = true
		for _, part := range Wrap(l.T(key), s.width-8) {
			out.WriteString("    " + part + "\n")
		}
	}
	_, err := io.WriteString(s.w, out.String())
	return err
}

// across draws label on an arrow from one column to the other: left to
// right when it comes from the server's.
func (s *ColumnsSink) across(label string, rightwards bool) string {
	label = Truncate(" "+label+" ", s.width-8)
	dashes := s.width - 4 - Width(label)
	leftDashes := dashes / 2
	line := strings.Repeat("─", leftDashes) + label + strings.Repeat("─", dashes-leftDashes)
	if rightwards {
		return "  " + line + "▶ "
	}
	return " ◀" + line + "  "
}

// arrow draws the bytes a read got, or the end of file it met, crossing
// from the other peer's column to the reader's.
func (s *ColumnsSink) arrow(e *Event) string {
	if e.Op != OpRead || e.Phase != End || e.Err != nil || e.Interrupt != "" {
		return ""
	}
	l := s.opts.Lang
	var label string
	switch {
	case e.EOF():
		label = l.T("arrow.fin")
	case e.N > 0:
		preview := string(appendQuotedPreview(nil, l, e.Data, max(8, s.width/4)))
		label = l.T("arrow.bytes", e.N) + " " + preview
	default:
		return ""
	}
	return s.across(label, e.Role != Server) // to the server, bytes came from the client, on the right
}

// Wrap breaks s into lines of at most width terminal columns, where a
// line may break: at a space, or before or after a wide (Chinese)
// character, as Chinese text breaks between any two characters (but not
// before its closing punctuation). A word
// longer than a line is cut.
func Wrap(s string, width int) []string { return wrap(s, width, true) }

// WrapWords is Wrap, except that a word longer than a line is never cut:
// it gets a line of its own, longer than width. A trace line's tokens
// (an address, a state, a quoted preview) are what a class reads and
// copies, and a terminal cutting them is what the wrapping is for.
func WrapWords(s string, width int) []string { return wrap(s, width, false) }

func wrap(s string, width int, cutLong bool) []string {
	var lines []string
	for Width(s) > width && width > 1 {
		cut, w := 0, 0
		end, next := -1, -1 // the last break that fits: this line's end, the next line's start
		prevWide, prevSpace := false, false
		for i, r := range s {
			isWide := wide(r)
			// Chinese punctuation stays with the character before it.
			if i > 0 && (isWide || prevWide) && !prevSpace && !strings.ContainsRune("，。、：；！？）」』", r) {
				end, next = i, i
			}
			rw := 1
			if isWide {
				rw = 2
			}
			if w+rw > width {
				cut = i
				break
			}
			if r == ' ' {
				end, next = i, i+1
			}
			w += rw
			prevWide, prevSpace = isWide, r == ' '
		}
		if end <= 0 && !cutLong {
			// No break fits: the word runs on to the next break.
			end, next = nextBreak(s)
			if end >= len(s) {
				break
			}
		}
		if end <= 0 {
			end, next = cut, cut
		}
		lines = append(lines, s[:end])
		s = s[next:]
	}
	return append(lines, s)
}

// cellIndent is how far a cell's continuation lines are indented: past
// the step number ("[ 9] "), under the call.
const cellIndent = 5

// wrapCell wraps s to width columns, its continuation lines indented,
// between words (a word longer than the column is cut only as a last
// resort: the column's edge is a hard one).
func wrapCell(s string, width, indent int) []string {
	s = glue.Replace(s)
	first := Wrap(s, width)
	if len(first) > 1 && width-indent >= 10 {
		lines := []string{first[0]}
		rest := strings.TrimLeft(s[len(first[0]):], " ")
		for _, l := range Wrap(rest, width-indent) {
			lines = append(lines, strings.Repeat(" ", indent)+l)
		}
		first = lines
	}
	for i, l := range first {
		first[i] = unglue.Replace(strings.TrimRight(l, " "))
	}
	return first
}

// Truncate cuts s to at most width terminal columns, ending in "…" when it
// cuts, and never in the middle of a character.
func Truncate(s string, width int) string {
	if Width(s) <= width {
		return s
	}
	w := 0
	for i, r := range s {
		rw := 1
		if wide(r) {
			rw = 2
		}
		if w+rw > width-1 {
			return s[:i] + "…"
		}
		w += rw
	}
	return s
}

// nextBreak returns where the first word of s ends and the next begins:
// at the first space, or after the first wide character.
func nextBreak(s string) (end, next int) {
	for i, r := range s {
		switch {
		case i > 0 && r == ' ':
			return i, i + 1
		case wide(r):
			return i + utf8.RuneLen(r), i + utf8.RuneLen(r)
		}
	}
	return len(s), len(s)
}
