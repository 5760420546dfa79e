package trace

import (
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/fatih/color"
)

// TextOptions configures [NewTextSink]. The zero value is the default.
type TextOptions struct {
	// Color paints each peer's lines in a colour of its own and errors in
	// red. The caller decides (see cmd/socklab's --color); the sink never
	// looks at the terminal or the environment.
	Color bool
	// Preview is how many bytes of data to show; 0 means DefaultPreview.
	Preview int
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

	mu     sync.Mutex
	buf    []byte
	colors map[string]*color.Color // by peer name
	states map[peerFD]string       // the TCP state last shown for each socket
	others int                     // peers other than servers coloured so far
}

// NewTextSink returns a sink that writes lines to w. opts may be nil.
func NewTextSink(w io.Writer, opts *TextOptions) *TextSink {
	s := &TextSink{w: w, colors: make(map[string]*color.Color), states: make(map[peerFD]string)}
	if opts != nil {
		s.opts = *opts
	}
	if s.opts.Preview <= 0 {
		s.opts.Preview = DefaultPreview
	}
	return s
}

type peerFD struct {
	peer string
	fd   int
}

// dropUnchangedState leaves the kernel's view out of a line when it says
// what the last line about the same socket said: "ESTABLISHED" after every
// read would hide the changes that matter. After close, it is always shown.
func (s *TextSink) dropUnchangedState(e *Event) {
	if e.State == "" || e.Phase != End {
		return
	}
	key := peerFD{e.Peer, e.FD}
	if e.Op == OpAccept {
		key.fd = e.Ret // the state is the new socket's
	}
	if e.Op == OpClose {
		delete(s.states, key)
		return
	}
	if s.states[key] == e.State {
		e.State = ""
		return
	}
	s.states[key] = e.State
}

// Peer colours, chosen to read well on a dark terminal and on a projector.
var peerPalette = []color.Attribute{color.FgYellow, color.FgMagenta, color.FgGreen, color.FgBlue}

// Handle writes e's line with a single Write.
func (s *TextSink) Handle(e Event) error {
	if !shown(&e) {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropUnchangedState(&e)
	line := appendLine(s.buf[:0], &e, s.opts.Preview)
	if s.opts.Color {
		line = []byte(s.paint(&e, string(line)))
	}
	line = append(line, '\n')
	_, err := s.w.Write(line)
	if cap(line) <= 4096 {
		s.buf = line // keep the buffer for the next line
	}
	return err
}

func (s *TextSink) paint(e *Event, line string) string {
	if e.Err != nil {
		return errorColor.Sprint(line)
	}
	c, ok := s.colors[e.Peer]
	if !ok {
		attr := color.FgCyan
		if e.Role != Server {
			attr = peerPalette[s.others%len(peerPalette)]
			s.others++
		}
		c = color.New(attr)
		c.EnableColor() // per-Color: never flips the package-wide switch
		s.colors[e.Peer] = c
	}
	return c.Sprint(line)
}

var errorColor = func() *color.Color {
	c := color.New(color.FgRed, color.Bold)
	c.EnableColor()
	return c
}()

// shown decides which events get a line. Calls that can block (accept,
// connect, read) get one when they begin and one when they end. Calls the
// other peer may be waiting on (write, shutdown, close) get theirs when they
// begin: the other peer's read can return, and be printed, before the writer
// is back from write, and a line must never appear after its own effect.
// Their End gets a line only when it has news: an error or a short write.
// Every other call gets one line, when it ends, with its result.
func shown(e *Event) bool {
	switch {
	case e.Op.Blocks():
		return true
	case e.Op == OpWrite || e.Op == OpShutdown || e.Op == OpClose:
		return e.Phase == Begin || e.Err != nil || (e.Op == OpWrite && e.N < offered(e)) || (e.Op == OpClose && e.State != "")
	}
	return e.Phase == End
}

// offered is how many bytes a write was given (its Arg).
func offered(e *Event) int {
	n, err := strconv.Atoi(e.Arg)
	if err != nil {
		return e.N
	}
	return n
}

// waiting says, on a blocking call's Begin line, what the call waits for.
var waiting = map[Op]string{
	OpAccept:  "blocks: waiting for a client to connect",
	OpConnect: "blocks: waiting for the handshake",
	OpRead:    "blocks: waiting for data",
}

// appendLine renders e, without colour or newline.
func appendLine(b []byte, e *Event, preview int) []byte {
	b = appendMillis(b, e.Time)
	b = append(b, "  "...)
	b = appendPadded(b, e.Peer, 8)
	b = append(b, ' ')
	if e.Step > 0 {
		b = fmt.Appendf(b, "[%2d] ", e.Step)
	} else {
		b = append(b, "     "...)
	}
	b = appendPadded(b, string(e.Op), 11)
	b = append(b, ' ')
	b = appendCall(b, e, preview)
	if e.Phase == Begin {
		if w := waiting[e.Op]; w != "" {
			b = append(append(b, "  "...), w...)
		}
		return b
	}
	b = append(b, " = "...)
	b = strconv.AppendInt(b, int64(e.Ret), 10)
	switch {
	case e.Err != nil && e.Errno != "":
		b = append(b, ' ')
		b = append(b, e.Errno...)
		b = append(b, " ("...)
		b = append(b, e.Err.Error()...)
		b = append(b, ')')
	case e.Err != nil:
		b = append(b, "  "...)
		b = append(b, e.Err.Error()...)
	case e.Op == OpAccept && e.Remote != "":
		b = append(b, "  new socket for client "...)
		b = append(b, e.Remote...)
	case e.Op == OpGetsockname && e.Local != "":
		b = append(b, "  local address "...)
		b = append(b, e.Local...)
	case e.EOF():
		b = append(b, "  EOF: the peer closed its side"...)
	case e.Interrupt != "":
	case e.Op == OpRead && e.Ret > 0 && e.Arg == strconv.Itoa(e.Ret):
		b = append(b, "  the buffer is full: more bytes may be waiting for the next read"...)
	case e.Op == OpRead && e.Ret > 0 && !utf8.Valid(e.Data):
		b = append(b, "  not valid UTF-8: shown escaped (\\x..)"...)
	case e.Op == OpWrite && e.N < offered(e):
		b = fmt.Appendf(b, "  short write: the kernel took %d of %d bytes", e.N, offered(e))
	}
	if e.Interrupt != "" {
		b = append(b, "  woken by shutdown: "...)
		b = append(b, e.Interrupt...)
	}
	b = appendState(b, e)
	if e.Op.Blocks() {
		b = append(b, "  (returned after "...)
		b = append(b, e.Elapsed.Round(time.Microsecond).String()...)
		b = append(b, ')')
	}
	return b
}

// appendState renders the kernel's view, when the event has it.
func appendState(b []byte, e *Event) []byte {
	if e.State == "" {
		return b
	}
	b = append(b, "  kernel: "...)
	b = appendStateName(b, e.State, e.StateTimer)
	if e.PeerState != "" {
		b = append(b, ", other end "...)
		b = appendStateName(b, e.PeerState, e.PeerStateTimer)
	}
	return b
}

func appendStateName(b []byte, state string, timer time.Duration) []byte {
	b = append(b, state...)
	if timer > 0 {
		b = fmt.Appendf(b, " (%v left)", timer.Round(100*time.Millisecond))
	}
	return b
}

// appendCall renders the call as strace would show it, shortened.
func appendCall(b []byte, e *Event, preview int) []byte {
	b = append(b, e.Syscall...)
	b = append(b, '(')
	if e.Op != OpCreate {
		b = strconv.AppendInt(b, int64(e.FD), 10)
	}
	switch e.Op {
	case OpCreate:
		b = append(b, e.Arg...)
	case OpBind:
		b = append(append(b, ", "...), e.Local...)
	case OpConnect:
		b = append(append(b, ", "...), e.Remote...)
	case OpListen, OpShutdown:
		b = append(append(b, ", "...), e.Arg...)
	case OpWrite:
		b = append(b, ", "...)
		b = appendQuotedPreview(b, e.Data, preview)
		b = append(append(b, ", "...), e.Arg...) // the bytes offered
	case OpRead:
		b = append(b, ", "...)
		if e.Phase == End && e.Err == nil {
			b = appendQuotedPreview(b, e.Data, preview)
		} else {
			b = append(b, "…"...)
		}
		b = append(append(b, ", "...), e.Arg...) // the buffer's size
	}
	return append(b, ')')
}

func appendQuotedPreview(b, data []byte, preview int) []byte {
	b = append(b, '"')
	b = AppendPreview(b, data, preview)
	b = append(b, '"')
	if shown := previewCut(data, preview); shown < len(data) {
		b = fmt.Appendf(b, "…(+%d bytes)", len(data)-shown)
	}
	return b
}

func appendMillis(b []byte, d time.Duration) []byte {
	s := strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64)
	for i := len(s); i < 9; i++ {
		b = append(b, ' ')
	}
	return append(append(b, s...), "ms"...)
}

func appendPadded(b []byte, s string, width int) []byte {
	b = append(b, s...)
	for i := len(s); i < width; i++ {
		b = append(b, ' ')
	}
	return b
}
