package trace

import (
	"io"
	"strings"
	"sync"

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
	// Width, if set, is the terminal's width: explanations wrap to it
	// (between words, or characters for Chinese), instead of leaving the
	// terminal to break their words. The trace lines themselves are not
	// wrapped, as strace's are not.
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
	s.ann = NewAnnotator(&AnnotateOptions{Preview: s.opts.Preview, Lang: s.opts.Lang, Explain: s.opts.Explain})
	return s
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
	line := appendMillis(s.buf[:0], e.Time)
	line = append(line, "  "...)
	line = appendPadded(line, PeerLabel(l, e.Peer, e.Role), 8)
	line = append(line, ' ')
	line = appendBody(line, l, &e, &an, true)
	if an.Late {
		// A packet keeps its own time and says why it comes after a
		// line stamped later, rather than hide it.
		line = append(append(line, "  "...), l.T("note.packet_late")...)
	}
	if s.opts.Color {
		line = []byte(s.painter.paint(&e, string(line)))
	}
	line = append(line, '\n')
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
