package trace

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/socklab/socklab/trace/i18n"
)

// TextOptions configures [NewTextSink]. The zero value is the default.
type TextOptions struct {
	// Color paints each peer's lines in a colour of its own and errors in
	// red. The caller decides (see cmd/socklab's --color); the sink never
	// looks at the terminal or the environment.
	Color bool
	// Preview is how many bytes of data to show; 0 means DefaultPreview.
	Preview int
	// Lang is the language of the words around the calls; "" means English.
	Lang i18n.Lang
	// Explain adds, under the first line of each kind, one sentence saying
	// what it means.
	Explain bool
	// ClockOfDay shows each line's time as the time of day
	// (17:33:12.345) rather than in milliseconds: for a trace stamped
	// since local midnight (Tracer.SetEpoch), as socklab server and
	// socklab client are with --clock=day.
	ClockOfDay bool
	// Width, if set, is the terminal's width: lines wrap to it between
	// words (or Chinese characters), never inside one, their next lines
	// indented under the call (a hanging indent), and explanations the
	// same way, instead of leaving the terminal to cut an address or a
	// state in two. The default preview shrinks to fit a narrow terminal
	// (one Preview sets is shown whole).
	Width int
}

// TextSink prints lines for people, at most one per event. Calls that can
// block (accept, connect, read) get a line when they begin, saying what they
// wait for, and a line when they end, saying how long they blocked; write,
// shutdown and close get one when they begin; other calls one when they end
// (see shown for why). Lines read like strace output, with the lesson-plan
// step in brackets:
//
//	0.052ms  server   [ 3] listen      listen(3, 4096) = 0
type TextSink struct {
	w    io.Writer
	opts TextOptions

	mu      sync.Mutex
	buf     []byte
	ann     *Annotator      // what each event means
	painter painter         // each peer's colour
	told    map[string]bool // explanations already given
}

// NewTextSink returns a sink that writes lines to w. opts may be nil.
func NewTextSink(w io.Writer, opts *TextOptions) *TextSink {
	s := &TextSink{w: w, told: make(map[string]bool)}
	if opts != nil {
		s.opts = *opts
	}
	if s.opts.Preview <= 0 {
		s.opts.Preview = DefaultPreview
	}
	if s.opts.Lang == "" {
		s.opts.Lang = i18n.EN
	}
	preview := s.opts.Preview
	if s.opts.Width > 0 && (opts == nil || opts.Preview <= 0) {
		// A quoted preview is one word: it must fit on a wrapped line.
		preview = min(preview, max(8, s.opts.Width-s.lineIndent()-20))
	}
	s.ann = NewAnnotator(&AnnotateOptions{Preview: preview, Lang: s.opts.Lang, Explain: s.opts.Explain})
	return s
}

// callColumn is where a line's call starts: after the time (11 columns),
// the peer (2 + 8 + 1), the step (5) and the operation (12).
const callColumn = 39

// lineIndent is how far a wrapped line's next lines are indented: under
// the call, or, on a terminal too narrow to leave the call 40 columns
// there, under the peer.
func (s *TextSink) lineIndent() int {
	if s.opts.Width-callColumn >= 40 {
		return callColumn
	}
	return 13
}

// explainIndent puts an explanation under the call column of its line.
const explainIndent = "                                 ↳ "

// narrowIndent is the explanations' indent on a terminal too narrow to
// give them explainIndent and still room for a phrase a line.
const narrowIndent = "    ↳ "

// appendExplanation appends the sentence under its line, wrapped to the
// terminal's width when it is known.
func (s *TextSink) appendExplanation(b []byte, text string) []byte {
	indent := explainIndent
	if s.opts.Width <= 0 {
		return append(append(append(b, indent...), text...), '\n')
	}
	if s.opts.Width-Width(indent) < 40 {
		indent = narrowIndent
	}
	pad := strings.Repeat(" ", Width(indent))
	for i, part := range Wrap(text, max(s.opts.Width-Width(indent), 10)) {
		if i == 0 {
			b = append(b, indent...)
		} else {
			b = append(b, pad...)
		}
		b = append(append(b, part...), '\n')
	}
	return b
}

// Handle writes e's line with a single Write.
func (s *TextSink) Handle(e Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	an := s.ann.Annotate(&e)
	if !an.Shown {
		return nil
	}
	l := s.opts.Lang
	var line []byte
	if s.opts.ClockOfDay {
		line = appendClockOfDay(s.buf[:0], e.Time)
	} else {
		line = appendMillis(s.buf[:0], e.Time)
	}
	line = append(line, "  "...)
	line = appendPadded(line, PeerLabel(l, e.Peer, e.Role), 8)
	line = append(line, ' ')
	line = appendBody(line, l, &e, &an, true)
	if an.Late {
		// A packet keeps its own time and says why it comes after a
		// line stamped later, rather than hide it.
		line = append(append(line, "  "...), l.T("note.packet_late")...)
	}
	if s.opts.Width > 0 && Width(string(line)) > s.opts.Width {
		line = s.wrapLine(&e, line)
	} else {
		if s.opts.Color {
			line = []byte(s.painter.paint(&e, string(line)))
		}
		line = append(line, '\n')
	}
	if src := e.Source.String(); src != "" && firstLine(&e) {
		// The program's line that made the call, under its first line.
		line = append(append(append(line, strings.Repeat(" ", s.lineIndent())...), src...), '\n')
	}
	if s.opts.Explain && an.Explain != "" && !s.told[an.Explain] {
		s.told[an.Explain] = true
		line = s.appendExplanation(line, l.T(an.Explain))
	}
	_, err := s.w.Write(line)
	if cap(line) <= 4096 {
		s.buf = line // keep the buffer for the next line
	}
	return err
}

// wrapLine breaks a line wider than the terminal between words, its next
// lines under the call, each line coloured on its own (so that a pane's
// border or the next line never takes the colour).
func (s *TextSink) wrapLine(e *Event, line []byte) []byte {
	indent := s.lineIndent()
	text := glue.Replace(string(line))
	first := WrapWords(text, s.opts.Width)[0]
	rest := strings.TrimLeft(text[len(first):], " ")
	lines := []string{first}
	pad := strings.Repeat(" ", indent)
	for _, l := range WrapWords(rest, s.opts.Width-indent) {
		lines = append(lines, pad+l)
	}
	out := line[:0:0]
	for _, l := range lines {
		l = unglue.Replace(strings.TrimRight(l, " "))
		if s.opts.Color {
			l = s.painter.paint(e, l)
		}
		out = append(append(out, l...), '\n')
	}
	return out
}

// glue keeps together what reads as one thing though it has a space in
// it: a result and its value ("= -1"), an arrow and where it points
// ("→ server"). A no-break space holds them while a line wraps, and
// unglue gives the space back.
var (
	glue   = strings.NewReplacer(" = ", " =\u00a0", "→ ", "→\u00a0")
	unglue = strings.NewReplacer("\u00a0", " ")
)

// appendClockOfDay writes d, a time since midnight, as a clock shows it,
// to the millisecond: 17:33:12.345, one column wider than a time in
// milliseconds.
func appendClockOfDay(b []byte, d time.Duration) []byte {
	d = d.Round(time.Millisecond)
	h, m, s, ms := d/time.Hour, d/time.Minute%60, d/time.Second%60, d/time.Millisecond%1000
	return fmt.Appendf(b, "%02d:%02d:%02d.%03d", h, m, s, ms)
}

// firstLine says whether e's line is its call's first: a Begin that is
// shown, or an End whose Begin was not.
func firstLine(e *Event) bool {
	if e.Phase == Begin {
		return true
	}
	b := *e
	b.Phase, b.Err, b.Connected = Begin, nil, false
	return !shown(&b)
}
