package trace

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/fatih/color"

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

	mu     sync.Mutex
	buf    []byte
	colors map[string]*color.Color // by peer name
	states map[peerFD]string       // the TCP state last shown for each socket
	told   map[string]bool         // explanations already given
	flows  map[flow][]int          // each direction's writes, in bytes, not yet all read
	resets map[peerFD]bool         // sockets whose connection was reset
	conns  map[peerFD]bool         // sockets that accept or connect gave a connection
	others int                     // peers other than servers coloured so far
	latest time.Duration           // the latest time a line has shown
}

// NewTextSink returns a sink that writes lines to w. opts may be nil.
func NewTextSink(w io.Writer, opts *TextOptions) *TextSink {
	s := &TextSink{w: w, colors: make(map[string]*color.Color), states: make(map[peerFD]string), told: make(map[string]bool),
		flows: make(map[flow][]int), resets: make(map[peerFD]bool), conns: make(map[peerFD]bool)}
	if opts != nil {
		s.opts = *opts
	}
	if s.opts.Preview <= 0 {
		s.opts.Preview = DefaultPreview
	}
	if s.opts.Lang == "" {
		s.opts.Lang = i18n.EN
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
	if e.Kernel.State == "" || e.Phase != End {
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
	if s.states[key] == e.Kernel.State {
		e.Kernel.State = ""
		return
	}
	s.states[key] = e.Kernel.State
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

// Peer colours, chosen to read well on a dark terminal and on a projector.
var peerPalette = []color.Attribute{color.FgYellow, color.FgMagenta, color.FgGreen, color.FgBlue}

// Handle writes e's line with a single Write.
func (s *TextSink) Handle(e Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := s.explain(&e) // from every event, shown or not: it follows the bytes
	if !shown(&e) {
		return nil
	}
	s.dropUnchangedState(&e)
	line := s.appendLine(s.buf[:0], &e)
	if e.Packet != nil && e.Time < s.latest {
		// On a busy machine the sending CPU may be held between stamping
		// a packet and queuing it for the capture: it comes after calls
		// made later, and says so rather than hide its time.
		line = append(append(line, "  "...), s.opts.Lang.T("note.packet_late")...)
	}
	s.latest = max(s.latest, e.Time)
	if s.opts.Color {
		line = []byte(s.paint(&e, string(line)))
	}
	line = append(line, '\n')
	if s.opts.Explain && key != "" && !s.told[key] {
		s.told[key] = true
		line = s.appendExplanation(line, s.opts.Lang.T(key))
	}
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
// Every other call gets one line, when it ends, with its result; so does a
// call on a non-blocking descriptor, which never waits.
func shown(e *Event) bool {
	switch {
	case e.Op == OpPacket:
		return true
	case e.Op.Blocks() && !e.Nonblock:
		return true
	case e.Op == OpWrite || e.Op == OpSendto || e.Op == OpShutdown || e.Op == OpClose:
		return e.Phase == Begin || e.Err != nil || (e.Op == OpWrite && e.N < offered(e)) || (e.Op == OpClose && e.Kernel.State != "")
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

// sameAs names, for the calls that a stream socket's write and read may be
// made with, the note that says so; the ops map to their own key, so
// that a datagram's sendto (OpSendto) gets none.
var sameAs = map[string]string{
	"sendto": "note.is_write", "send": "note.is_write", "sendmsg": "note.is_write", "writev": "note.is_write",
	"sendmmsg": "note.is_write", string(OpWrite): "note.is_write",
	"recvfrom": "note.is_read", "recv": "note.is_read", "recvmsg": "note.is_read", "readv": "note.is_read",
	"recvmmsg": "note.is_read", string(OpRead): "note.is_read",
}

// waiting names, for a blocking call's Begin line, what the call waits for.
var waiting = map[Op]string{
	OpAccept:   "wait.accept",
	OpConnect:  "wait.connect",
	OpRead:     "wait.read",
	OpRecvfrom: "wait.recvfrom",
}

// appendLine renders e, without colour or newline.
func (s *TextSink) appendLine(b []byte, e *Event) []byte {
	b = appendMillis(b, e.Time)
	b = append(b, "  "...)
	b = appendPadded(b, s.peerName(e), 8)
	b = append(b, ' ')
	return s.appendBody(b, e, true)
}

// appendBody renders what a line says after its time and peer: the step,
// the operation (unless withOp is false: the call names it too), the call
// and its result.
func (s *TextSink) appendBody(b []byte, e *Event, withOp bool) []byte {
	t := s.opts.Lang.T
	if e.Packet != nil {
		return s.appendPacket(b, e, withOp)
	}
	if e.Step > 0 {
		b = fmt.Appendf(b, "[%2d] ", e.Step)
	} else {
		b = append(b, "     "...)
	}
	if withOp {
		b = appendPadded(b, t("op."+string(e.Op)), 11)
		b = append(b, ' ')
	}
	b = s.appendCall(b, e)
	if e.Phase == Begin {
		if w := waiting[e.Op]; w != "" {
			if e.Op == OpConnect && e.Kind == "unix" {
				w = "wait.connect.unix" // no handshake: the kernel joins the sockets
			}
			b = append(append(b, "  "...), t(w)...)
		}
		if key := sameAs[e.Syscall]; key != "" && key == sameAs[string(e.Op)] && e.Syscall != string(e.Op) {
			// Python's sendall is sendto, its recv recvfrom: on a
			// connected TCP socket, a write and a read.
			b = append(append(b, "  "...), t(key, e.Syscall)...)
		}
		if e.Op == OpClose && e.Copies > 0 {
			b = append(append(b, "  "...), t("note.copies", e.Copies)...)
		}
		return b
	}
	b = append(b, " = "...)
	b = strconv.AppendInt(b, int64(e.Ret), 10)
	switch {
	case e.Err != nil && e.Errno != "" && e.Interrupt != "":
		// Woken by our own shutdown: the errno is the kernel's truth, but
		// its usual words ("reset by peer") would blame a peer.
		b = append(b, ' ')
		b = append(b, e.Errno...)
	case e.Err != nil && e.Errno != "":
		b = append(b, ' ')
		b = append(b, e.Errno...)
		b = append(b, " ("...)
		b = append(b, s.errnoText(e)...)
		b = append(b, ')')
	case e.Err != nil:
		b = append(b, "  "...)
		b = append(b, e.Err.Error()...)
	case e.Op == OpAccept && e.Remote != "":
		b = append(append(b, "  "...), t("note.accepted", e.Remote)...)
	case e.Op == OpRecvfrom && e.Remote != "":
		b = append(append(b, "  "...), t("note.from", e.Remote)...)
	case e.Op == OpGetsockname && e.Local != "":
		b = append(append(b, "  "...), t("note.local", e.Local)...)
	case e.EOF():
		b = append(append(b, "  "...), t("note.eof")...)
	case e.Interrupt != "":
	case e.Op == OpRead && e.Ret > 0 && e.Arg == strconv.Itoa(e.Ret):
		b = append(append(b, "  "...), t("note.buffer_full")...)
	case e.Op == OpRead && e.Ret > 0 && !utf8.Valid(e.Data):
		b = append(append(b, "  "...), t("note.not_utf8")...)
	case e.Op == OpWrite && e.N < offered(e):
		b = append(append(b, "  "...), t("note.short_write", e.N, offered(e))...)
	}
	if e.Interrupt != "" {
		reason := e.Interrupt
		if key := "interrupt." + reason; s.opts.Lang.Has(key) {
			reason = t(key)
		}
		b = append(append(b, "  "...), t("note.woken", reason)...)
	}
	b = s.appendState(b, e)
	if e.Op.Blocks() && !e.Nonblock && withOp { // the narrow columns keep their room for the kernel's view; a non-blocking call never waits
		b = append(append(b, "  "...), t("note.returned_after", e.Elapsed.Round(time.Microsecond))...)
	}
	return b
}

// appendPacket renders a packet of the wire view where a call's step,
// op and call go: its flags (in the op's column), to whom, and its numbers
// as tcpdump writes them, so that a student who meets tcpdump later reads
// it already: relative seq and ack, the window in bytes, the payload's
// length and a preview of it, the handshake's options.
func (s *TextSink) appendPacket(b []byte, e *Event, withOp bool) []byte {
	p := e.Packet
	b = append(b, "     "...) // no step: a packet is no call
	if withOp {
		b = appendPadded(b, p.Label(), 11)
		b = append(b, ' ')
	}
	to := p.To
	if p.ToPeer != "" {
		to = s.translatedPeer(p.ToPeer)
	}
	if e.Peer == "" { // the sender's address is no socket the trace knows yet
		b = append(append(b, p.From...), ' ')
	}
	b = append(append(b, "→ "...), to...)
	b = append(b, "  "...)
	return s.appendPacketFields(b, e, s.opts.Preview)
}

// appendPacketFields renders a packet's numbers, options and payload.
func (s *TextSink) appendPacketFields(b []byte, e *Event, preview int) []byte {
	p := e.Packet
	if p.Proto == "tcp" {
		b = fmt.Appendf(b, "seq %d", p.Seq)
		if strings.Contains(p.Flags, "ACK") {
			b = fmt.Appendf(b, ", ack %d", p.Ack)
		}
		b = fmt.Appendf(b, ", win %d, len %d", p.Window, e.N)
	} else {
		b = fmt.Appendf(b, "len %d", e.N)
	}
	var opts []string
	if p.MSS >= 0 {
		opts = append(opts, "mss "+strconv.Itoa(p.MSS))
	}
	if p.SACK {
		opts = append(opts, "sackOK")
	}
	if p.WScale >= 0 {
		opts = append(opts, "wscale "+strconv.Itoa(p.WScale))
	}
	if len(opts) > 0 {
		b = append(append(append(b, " ["...), strings.Join(opts, ", ")...), ']')
	}
	if e.N > 0 {
		b = append(append(b, "  "...), s.appendQuotedPreview(nil, e.Data, preview)...)
	}
	return b
}

// translatedPeer is a peer's name in the sink's language, when it is a
// role's ("server-2" is "服务器-2" in Chinese), as it is when the peer's
// own role is not at hand (a packet's receiver).
func (s *TextSink) translatedPeer(name string) string {
	for _, r := range []Role{Server, Client} {
		if rest, ok := strings.CutPrefix(name, string(r)); ok && (rest == "" || rest[0] == '-') {
			return s.opts.Lang.T("peer."+string(r)) + rest
		}
	}
	return name
}

// packetExplanation returns the catalogue key of the sentence that
// explains a packet of its kind, or "".
func packetExplanation(e *Event) string {
	p := e.Packet
	switch {
	case p == nil:
		return ""
	case p.Proto == "udp":
		return "explain.packet.udp"
	case p.Flags == "SYN":
		return "explain.packet.syn"
	case p.Flags == "SYN-ACK":
		return "explain.packet.synack"
	case strings.Contains(p.Flags, "RST") && p.Seq == 0 && p.Ack == 1:
		// The answer to a SYN: its sender has sent nothing before.
		return "explain.packet.rst_refused"
	case strings.Contains(p.Flags, "RST"):
		return "explain.packet.rst"
	case strings.Contains(p.Flags, "FIN"):
		return "explain.packet.fin"
	case e.N > 0:
		return "explain.packet.data"
	case p.Flags == "ACK":
		return "explain.packet.ack"
	}
	return ""
}

// peerName is the peer's name in the sink's language: "client-2" is
// "客户端-2" in Chinese.
func (s *TextSink) peerName(e *Event) string {
	if rest, ok := strings.CutPrefix(e.Peer, string(e.Role)); ok && e.Role != "" {
		return s.opts.Lang.T("peer."+string(e.Role)) + rest
	}
	return e.Peer
}

// errnoText is the kernel's error in words: from the catalogue when it has
// the errno, else as the system words it.
func (s *TextSink) errnoText(e *Event) string {
	if e.Signal != "" {
		return s.opts.Lang.T("errno.signal", e.Signal)
	}
	if key := "errno." + e.Errno; s.opts.Lang.Has(key) {
		return s.opts.Lang.T(key)
	}
	return e.Err.Error()
}

// appendState renders the kernel's view, when the event has it.
func (s *TextSink) appendState(b []byte, e *Event) []byte {
	if e.Kernel.State == "" {
		return b
	}
	t := s.opts.Lang.T
	b = append(append(b, "  "...), t("note.kernel", s.stateName(e.Kernel.State, e.Kernel.Timer))...)
	if e.Kernel.PeerState != "" {
		b = append(b, t("note.other_end", s.stateName(e.Kernel.PeerState, e.Kernel.PeerTimer))...)
	}
	if strings.HasPrefix(e.Kernel.From, "/proc/") {
		// The fallback is worth a word: the whole table was read, at a
		// cost that grows with the machine's connections. sock_diag and
		// TCP_INFO, the usual sources, go unsaid (JSON has them all).
		b = append(b, t("note.state_from", e.Kernel.From)...)
	}
	return b
}

func (s *TextSink) stateName(state string, timer time.Duration) string {
	if timer > 0 {
		return state + s.opts.Lang.T("note.left", timer.Round(100*time.Millisecond))
	}
	return state
}

// A flow is one direction of a connection: from the writer's address to
// the reader's.
type flow struct{ from, to string }

// explain returns the catalogue key of the sentence that explains e's
// line, or "", chosen from what the call really did in its context: a read
// that got part of one write, or bytes of two, or half a character; a
// close after the connection was reset, which sends nothing; a close whose
// other end, not this one, waits in TIME_WAIT. It follows every event, so
// it must see them all, shown or not. s.mu is held.
func (s *TextSink) explain(e *Event) string {
	if !s.opts.Explain {
		return "" // nothing to say, so nothing to follow
	}
	if e.Op == OpPacket {
		return packetExplanation(e)
	}
	fd := peerFD{e.Peer, e.FD}
	switch {
	case e.Op == OpWrite && e.Phase == Begin:
		f := flow{e.Local, e.Remote}
		s.flows[f] = append(s.flows[f], e.N)
	case e.Op == OpWrite && e.Phase == End:
		// The Begin counted the bytes offered; the kernel may have taken
		// fewer, and sends only those.
		// The writer makes one call at a time: its last entry is this
		// write's, and no read can have taken bytes it did not send.
		f := flow{e.Local, e.Remote}
		if offered, err := strconv.Atoi(e.Arg); err == nil && offered > e.Ret {
			if w := s.flows[f]; len(w) > 0 {
				if w[len(w)-1] -= offered - max(e.Ret, 0); w[len(w)-1] <= 0 {
					s.flows[f] = w[:len(w)-1] // a failed write sent nothing
				}
			}
		}
	case e.Op == OpAccept && e.Phase == End && e.Ret >= 0:
		s.conns[peerFD{e.Peer, e.Ret}] = true
	case e.Op == OpConnect && e.Phase == End && e.Err == nil:
		s.conns[fd] = true
	case e.Op == OpClose && e.Phase == End:
		delete(s.resets, fd) // the number may be given to a new socket
		delete(s.conns, fd)
		// What was written and never read is gone with the connection.
		delete(s.flows, flow{e.Local, e.Remote})
		delete(s.flows, flow{e.Remote, e.Local})
	}
	// Only a reset says the connection is gone: EPIPE also follows this
	// side's own shutdown, after which close still sends FIN.
	if e.Phase == End && e.Errno == "ECONNRESET" {
		s.resets[fd] = true
	}
	switch {
	case e.Op == OpRead && e.Phase == End && e.Err == nil && e.Ret > 0:
		joined, partial := s.consume(flow{e.Remote, e.Local}, e.Ret)
		switch {
		case endsMidCharacter(e.Data):
			return "explain.read.split_char"
		case joined:
			return "explain.read.joined"
		case partial:
			return "explain.read.partial"
		}
	case e.Op == OpRead && e.Phase == End && e.Interrupt != "" && e.Err == nil:
		return "explain.read.interrupted"
	case e.Op == OpConnect && e.Phase == End && e.Interrupt == "connect-timeout":
		return "explain.connect.interrupted"
	case e.Op == OpClose && e.Phase == Begin && s.resets[fd] && e.Arg == "":
		return "explain.close.after_reset"
	case e.Op == OpClose && e.Phase == Begin && e.Kind == "unix" && s.conns[fd]:
		// A Unix socket's peer has no address to show: the connection
		// is known from the accept or connect that made it.
		return "explain.close.unix"
	case e.Op == OpClose && e.Phase == End && e.Kernel.State != "TIME_WAIT" && e.Kernel.PeerState == "TIME_WAIT":
		return "explain.close.state.other"
	}
	return explanation(e)
}

// consume takes n bytes read from what f's writes carried, and reports
// whether they came from two writes or more (joined), or were only part of
// one, whose rest waits for the next read (partial).
func (s *TextSink) consume(f flow, n int) (joined, partial bool) {
	writes := s.flows[f]
	touched, rest := 0, false
	for n > 0 && len(writes) > 0 {
		take := min(n, writes[0])
		writes[0] -= take
		n -= take
		touched++
		if writes[0] > 0 {
			rest = true
			break
		}
		writes = writes[1:]
	}
	if len(writes) == 0 {
		delete(s.flows, f)
	} else {
		s.flows[f] = writes
	}
	return touched > 1, touched == 1 && rest
}

// endsMidCharacter reports whether b ends with the first bytes of a UTF-8
// character whose other bytes have not come yet.
func endsMidCharacter(b []byte) bool {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			// FullRune is false only for a valid start cut short.
			return !utf8.FullRune(b[i:])
		}
	}
	return false
}

// explanation returns the catalogue key of the sentence that explains e's
// line by itself, or "".
func explanation(e *Event) string {
	begin := e.Phase == Begin
	switch e.Op {
	case OpCreate:
		if e.Role == Server {
			return "explain.create.server"
		}
		return "explain.create.client"
	case OpBind:
		switch {
		case e.Errno == "EADDRINUSE":
			return "explain.bind.inuse"
		case e.Kind == "unix":
			return "explain.bind.path"
		case e.Kind == "udp":
			return "explain.bind.udp"
		}
		return "explain.bind"
	case OpSetsockopt:
		for _, opt := range []string{"SO_REUSEADDR", "SO_LINGER", "SO_RCVTIMEO"} {
			if strings.Contains(e.Arg, opt) {
				return "explain.setsockopt." + opt
			}
		}
		return "explain.setsockopt"
	case OpGetsockname:
		return "explain.getsockname"
	case OpFcntl:
		if strings.Contains(e.Arg, "F_DUPFD") {
			return "explain.fcntl.dup"
		}
		return "explain.fcntl"
	case OpListen:
		if e.Kind == "unix" {
			return "explain.listen.unix"
		}
		return "explain.listen"
	case OpConnect:
		switch {
		case begin && e.Kind == "unix":
			return "explain.connect.begin.unix"
		case begin:
			return "explain.connect.begin"
		case e.Errno == "ECONNREFUSED":
			return "explain.connect.refused"
		case e.Err == nil && e.Kind == "unix":
			return "explain.connect.end.unix"
		case e.Err == nil:
			return "explain.connect.end"
		}
	case OpAccept:
		switch {
		case begin && e.Kind == "unix":
			return "explain.accept.begin.unix"
		case begin:
			return "explain.accept.begin"
		case e.Errno == "EAGAIN" && e.Nonblock:
			return "explain.nonblock.eagain"
		case e.Err == nil && e.Interrupt == "":
			return "explain.accept.end"
		}
	case OpWrite:
		if begin {
			return "explain.write"
		}
	case OpRead:
		switch {
		case begin:
			return "explain.read.begin"
		case e.Errno == "EAGAIN" && e.Nonblock:
			return "explain.nonblock.eagain"
		case e.EOF():
			return "explain.read.eof"
		case e.Errno == "ECONNRESET":
			return "explain.read.reset"
		case e.Errno == "EAGAIN":
			return "explain.read.timeout"
		case e.Err == nil && e.Ret > 0:
			return "explain.read.end"
		}
	case OpShutdown:
		if begin {
			return "explain.shutdown"
		}
	case OpSendto:
		if begin {
			return "explain.sendto"
		}
	case OpRecvfrom:
		if !begin && e.Err == nil {
			return "explain.recvfrom"
		}
	case OpClose:
		switch {
		case !begin:
		case e.Arg == "SO_LINGER 0":
			return "explain.close.rst"
		case e.Kind == "udp":
			return "explain.close.udp"
		case e.Remote == "":
			return "explain.close.unconnected"
		case e.Kind == "unix":
			return "explain.close.unix"
		default:
			return "explain.close"
		}
		if e.Kernel.State == "TIME_WAIT" || e.Kernel.PeerState == "TIME_WAIT" {
			return "explain.close.state"
		}
	}
	if e.Interrupt != "" {
		return "explain.interrupted"
	}
	return ""
}

// appendCall renders the call as strace would show it, shortened.
func (s *TextSink) appendCall(b []byte, e *Event) []byte {
	preview := s.opts.Preview
	b = append(b, e.Syscall...)
	b = append(b, '(')
	start := len(b)
	// sep separates arguments; a call with no descriptor yet (net.Dial's
	// Begin) starts with the next one.
	sep := func(b []byte) []byte {
		if len(b) > start {
			return append(b, ", "...)
		}
		return b
	}
	if e.Op != OpCreate && e.FD >= 0 {
		b = strconv.AppendInt(b, int64(e.FD), 10)
	}
	switch e.Op {
	case OpCreate:
		b = append(b, e.Arg...)
	case OpBind:
		b = append(sep(b), e.Local...)
	case OpConnect:
		b = append(sep(b), e.Remote...)
	case OpListen, OpShutdown, OpSetsockopt, OpFcntl:
		b = append(sep(b), e.Arg...)
	case OpWrite:
		b = append(b, ", "...)
		b = s.appendQuotedPreview(b, e.Data, preview)
		b = append(append(b, ", "...), e.Arg...) // the bytes offered
	case OpSendto:
		b = append(b, ", "...)
		b = s.appendQuotedPreview(b, e.Data, preview)
		b = append(append(b, ", "...), e.Arg...)
		b = append(append(b, ", "...), e.Remote...)
	case OpRead, OpRecvfrom:
		b = append(b, ", "...)
		if e.Phase == End && e.Err == nil {
			b = s.appendQuotedPreview(b, e.Data, preview)
		} else {
			b = append(b, "…"...)
		}
		b = append(append(b, ", "...), e.Arg...) // the buffer's size
	}
	return append(b, ')')
}

func (s *TextSink) appendQuotedPreview(b, data []byte, preview int) []byte {
	b = append(b, '"')
	b = AppendPreview(b, data, preview)
	b = append(b, '"')
	if shown := previewCut(data, preview); shown < len(data) {
		b = append(b, s.opts.Lang.T("note.more_bytes", len(data)-shown)...)
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
