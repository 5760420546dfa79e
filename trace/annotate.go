package trace

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/socklab/socklab/trace/i18n"
)

// An Annotator is the stage between the tracer and the sinks that decides,
// once per event, what the event means to a person: whether it gets a
// line, the call as strace writes it, the notes that go with it, the
// kernel's view worth showing and the explanation — the notes and the
// explanation as catalogue keys with their arguments, not finished text.
// Every sink that shows events (text, columns, JSON, Mermaid; the page
// through JSON) owns one, as log/slog's handlers share commonHandler, and
// only translates and lays out what it decided.
//
// An Annotator follows the run — the bytes written and not yet read, the
// sockets that were reset, the state each socket last showed — so it must
// see every event, shown or not, in sequence order. It is not safe for
// concurrent use: its sink calls it under the sink's own lock.
type Annotator struct {
	opts   AnnotateOptions
	states map[peerFD]string // the TCP state last shown for each socket
	flows  map[flow][]int    // each direction's writes, in bytes, not yet all read
	resets map[peerFD]bool   // sockets whose connection was reset
	conns  map[peerFD]bool   // sockets that accept or connect gave a connection
	// finFirst are the sockets whose writing side a shutdown ended: their
	// FIN went before their close. timeWait are the local addresses whose
	// connection a close left in TIME_WAIT, for a later bind on them.
	finFirst map[peerFD]bool
	timeWait map[string]bool
	// pollers are the sockets handed to Go's runtime poller (their
	// duplicate for it, fcntl F_DUPFD_CLOEXEC): their EAGAIN parks a
	// goroutine; any other socket's, the program waits elsewhere itself.
	pollers map[peerFD]bool
	latest  time.Duration // the latest time a line has shown
}

// AnnotateOptions configures [NewAnnotator]. The zero value is the default.
type AnnotateOptions struct {
	// Preview is how many bytes of data the call text shows; 0 means
	// DefaultPreview.
	Preview int
	// Lang is the language of the call text's "…(+N bytes)"; "" means
	// English. Notes and explanations stay catalogue keys.
	Lang i18n.Lang
	// Explain chooses each line's explanation. Without it the annotator
	// follows nothing it would only need for that.
	Explain bool
	// Hidden annotates the events that get no line too (their call and
	// notes), as a trace for programs carries every event.
	Hidden bool
}

// NewAnnotator returns an annotator. opts may be nil.
func NewAnnotator(opts *AnnotateOptions) *Annotator {
	a := &Annotator{states: make(map[peerFD]string), flows: make(map[flow][]int),
		resets: make(map[peerFD]bool), conns: make(map[peerFD]bool), finFirst: make(map[peerFD]bool),
		timeWait: make(map[string]bool), pollers: make(map[peerFD]bool)}
	if opts != nil {
		a.opts = *opts
	}
	if a.opts.Preview <= 0 {
		a.opts.Preview = DefaultPreview
	}
	if a.opts.Lang == "" {
		a.opts.Lang = i18n.EN
	}
	return a
}

// An Annotation is what an [Annotator] decided about one event.
type Annotation struct {
	// Shown says whether the event gets a line (see shown).
	Shown bool
	// Call is the call as strace writes it, its data previewed:
	// `write(5, "hi", 2)`. For a packet of the wire view, its numbers,
	// options and payload: `seq 1, ack 1, win 65536, len 2  "hi"`.
	Call string
	// Result is what the call returned, as strace writes it, on an End:
	// "= 3", "= -1 ECONNREFUSED" (the errno's words are the sink's to
	// say, in its language).
	Result string
	// Notes are what the line says after the call (on a Begin) or after
	// its result (on an End), in order.
	Notes []Note
	// State is the kernel's view the line shows: nil when the event has
	// none, or it says what the last line about the same socket said
	// ("ESTABLISHED" after every read would hide the changes that
	// matter). After close it is always shown.
	State *KernelView
	// Waited marks the End of a call that may block, on a blocking
	// descriptor: the line says how long it blocked (Event.Elapsed).
	Waited bool
	// Late marks a packet stamped before a line already shown: on a busy
	// machine the sending CPU may be held between stamping a packet and
	// queuing it for the capture, and it comes after calls made later.
	Late bool
	// Explain is the catalogue key of the sentence that explains the
	// line, or "" (always "" without AnnotateOptions.Explain).
	Explain string
}

// A Note is a remark on a line: a catalogue key and its arguments. An
// argument may itself be a Note, or a list of them ([]Note), said first; a
// Note with no key is its one argument, said as it is.
type Note struct {
	Key  string
	Args []any
}

// In says the note in l.
func (n Note) In(l i18n.Lang) string {
	if n.Key == "" {
		if len(n.Args) == 0 {
			return ""
		}
		s, _ := n.Args[0].(string)
		return s
	}
	args := n.Args
	for i, a := range n.Args {
		var said string
		switch a := a.(type) {
		case Note:
			said = a.In(l)
		case []Note: // a list, said in the language's way
			parts := make([]string, len(a))
			for j, n := range a {
				parts[j] = n.In(l)
			}
			said = strings.Join(parts, l.T("note.list_sep"))
		default:
			continue
		}
		if &args[0] == &n.Args[0] {
			args = slices.Clone(n.Args) // never write to the annotation's own slice
		}
		args[i] = said
	}
	return l.T(n.Key, args...)
}

// PeerLabel is a peer's name in l: "client-2" is "客户端-2" in Chinese. A
// role's name is translated when the peer's name starts with it (role ""
// tries both, for a peer known only by name: a packet's receiver).
func PeerLabel(l i18n.Lang, peer string, role Role) string {
	roles := []Role{role}
	if role == "" {
		roles = []Role{Server, Client}
	}
	for _, r := range roles {
		if rest, ok := strings.CutPrefix(peer, string(r)); ok && r != "" && (role != "" || rest == "" || rest[0] == '-') {
			return l.T("peer."+string(r)) + rest
		}
	}
	return peer
}

type peerFD struct {
	peer string
	fd   int
}

// A flow is one direction of a connection: from the writer's address to
// the reader's.
type flow struct{ from, to string }

// Annotate decides what e means. It must see every event of the run, in
// order.
func (a *Annotator) Annotate(e *Event) Annotation {
	var an Annotation
	if a.opts.Explain {
		an.Explain = a.explain(e) // from every event, shown or not: it follows the bytes
	}
	if an.Shown = shown(e); !an.Shown && !a.opts.Hidden {
		return an
	}
	if e.Packet != nil {
		an.Call = string(appendPacketFields(nil, a.opts.Lang, e, a.opts.Preview))
		an.Late = an.Shown && e.Time < a.latest
		a.latest = max(a.latest, e.Time)
		return an
	}
	if an.Shown {
		a.latest = max(a.latest, e.Time)
		an.State = a.stateToShow(e)
	}
	an.Call = string(a.appendCall(nil, e))
	if e.Phase == End {
		an.Result = result(e)
	}
	an.Notes = notes(e)
	an.Waited = e.Phase == End && e.Op.Blocks() && !e.Nonblock
	return an
}

// result is what e's call returned, as strace writes it.
func result(e *Event) string {
	r := "= " + strconv.Itoa(e.Ret)
	if e.Err != nil && e.Errno != "" {
		r += " " + e.Errno
	}
	return r
}

// stateToShow returns the kernel's view e's line shows, or nil (see
// Annotation.State).
func (a *Annotator) stateToShow(e *Event) *KernelView {
	if e.Kernel.State == "" || e.Phase != End {
		return nil
	}
	key := peerFD{e.Peer, e.FD}
	if e.Op == OpAccept {
		key.fd = e.Ret // the state is the new socket's
	}
	if e.Op == OpClose {
		delete(a.states, key)
	} else {
		if a.states[key] == e.Kernel.State {
			return nil
		}
		a.states[key] = e.Kernel.State
	}
	k := e.Kernel
	return &k
}

// shown decides which events get a line. Calls that can block (accept,
// connect, read) get one when they begin and one when they end. Calls the
// other peer may be waiting on (write, shutdown, close) get theirs when they
// begin: the other peer's read can return, and be printed, before the writer
// is back from write, and a line must never appear after its own effect.
// Their End gets a line only when it has news: an error or a short write.
// Every other call gets one line, when it ends, with its result; so does a
// call on a non-blocking descriptor, which never waits, and the End through
// which a non-blocking connect's program learns it is connected (step 7).
func shown(e *Event) bool {
	switch {
	case e.Op == OpPacket:
		return true
	case e.Connected: // step 7 of a non-blocking connect: a write's End too
		return true
	case e.Op.Blocks() && !e.Nonblock:
		return true
	case e.Op == OpWrite || e.Op == OpSendto || e.Op == OpShutdown || e.Op == OpClose:
		return e.Phase == Begin || e.Err != nil || (e.Op == OpWrite && e.N < offered(e)) || (e.Op == OpClose && e.Kernel.State != "")
	}
	return e.Phase == End
}

// offered is how many bytes a write was given.
func offered(e *Event) int {
	if e.Offered == 0 {
		return e.N
	}
	return e.Offered
}

// sameAs names, for the calls that a stream socket's write and read may be
// made with, the note that says so. Only a write or a read gets it: a
// datagram's sendto or sendmsg (OpSendto) is no stand-in for anything.
var sameAs = map[string]string{
	"sendto": "note.is_write", "send": "note.is_write", "sendmsg": "note.is_write", "writev": "note.is_write",
	"sendmmsg": "note.is_write",
	"recvfrom": "note.is_read", "recv": "note.is_read", "recvmsg": "note.is_read", "readv": "note.is_read",
	"recvmmsg": "note.is_read",
}

// waiting names, for a blocking call's Begin line, what the call waits for.
var waiting = map[Op]string{
	OpAccept:   "wait.accept",
	OpConnect:  "wait.connect",
	OpRead:     "wait.read",
	OpRecvfrom: "wait.recvfrom",
}

// notes returns what e's line says after its call or result, in order.
func notes(e *Event) []Note {
	var ns []Note
	if e.Phase == Begin {
		switch w := waiting[e.Op]; {
		case e.QueueKnown && (e.Op == OpAccept || e.Op == OpRead || e.Op == OpRecvfrom):
			ns = append(ns, queueNote(e))
		case e.Op == OpPoll:
			ns = append(ns, Note{Key: "wait.poll", Args: []any{waitNotes(e.Waits, false)}})
		case w != "":
			if e.Op == OpConnect && e.Kind == "unix" {
				w = "wait.connect.unix" // no handshake: the kernel joins the sockets
			}
			ns = append(ns, Note{Key: w})
		}
		if key := sameAs[e.Syscall]; key != "" && (e.Op == OpWrite || e.Op == OpRead) && e.Syscall != string(e.Op) {
			// Python's sendall is sendto, its recv recvfrom: on a
			// connected TCP socket, a write and a read.
			ns = append(ns, Note{Key: key, Args: []any{e.Syscall}})
		}
		if e.Op == OpClose && e.Copies > 0 {
			ns = append(ns, Note{Key: "note.copies", Args: []any{e.Copies}})
		}
		return ns
	}
	switch {
	case e.Errno == "EAGAIN" && e.Nonblock && e.Interrupt == "":
		ns = append(ns, Note{Key: "note.eagain"})
	case e.Errno == "EINPROGRESS":
		ns = append(ns, Note{Key: "note.inprogress"})
	case e.Connected && e.Op != OpGetsockopt && e.Err == nil:
		// A non-blocking connect's program that never asked SO_ERROR:
		// its first write or read that moved bytes is step 7.
		ns = append(ns, Note{Key: "note.connected.io"})
	case e.Err != nil: // the result says it: the errno, in words
	case e.Op == OpPoll && e.Ret == 0:
		ns = append(ns, Note{Key: "note.poll.timeout"})
	case e.Op == OpPoll:
		ns = append(ns, Note{Key: "note.ready", Args: []any{waitNotes(e.Waits, true)}})
	case e.Op == OpEpollCreate:
		ns = append(ns, Note{Key: "note.epoll.create"})
	case e.Op == OpEpollCtl && len(e.Waits) == 1 && e.Waits[0].Remove:
		ns = append(ns, Note{Key: "note.epoll.del", Args: []any{e.Waits[0].FD}})
	case e.Op == OpEpollCtl && len(e.Waits) == 1:
		ns = append(ns, Note{Key: "note.epoll.add", Args: []any{waitNotes(e.Waits, false)}})
	case e.Op == OpIoctl && e.Command == "FIONBIO" && e.Value != 0:
		ns = append(ns, Note{Key: "note.fionbio.on"})
	case e.Op == OpIoctl && e.Command == "FIONBIO":
		ns = append(ns, Note{Key: "note.fionbio.off"})
	case e.Op == OpGetsockopt && e.Option == "SO_ERROR" && e.Connected:
		ns = append(ns, Note{Key: "note.so_error.connected"})
	case e.Op == OpGetsockopt && e.Option == "SO_ERROR" && e.Value != 0:
		ns = append(ns, Note{Key: "note.so_error.failed"})
	case e.Op == OpAccept && e.Remote != "":
		ns = append(ns, Note{Key: "note.accepted", Args: []any{e.Remote}})
	case e.Op == OpRecvfrom && e.Remote != "":
		ns = append(ns, Note{Key: "note.from", Args: []any{e.Remote}})
	case e.Op == OpGetsockname && e.Local != "":
		ns = append(ns, Note{Key: "note.local", Args: []any{e.Local}})
	case e.EOF():
		ns = append(ns, Note{Key: "note.eof"})
	case e.Interrupt != "":
	case e.Op == OpRead && e.Ret > 0 && e.Offered == e.Ret:
		ns = append(ns, Note{Key: "note.buffer_full"})
	case e.Op == OpRead && e.Ret > 0 && !utf8.Valid(e.Data):
		ns = append(ns, Note{Key: "note.not_utf8"})
	case e.Op == OpWrite && e.N < offered(e):
		ns = append(ns, Note{Key: "note.short_write", Args: []any{e.N, offered(e)}})
	}
	if e.Interrupt != "" {
		reason := Note{Args: []any{e.Interrupt}}
		if key := "interrupt." + e.Interrupt; i18n.EN.Has(key) {
			reason = Note{Key: key}
		}
		ns = append(ns, Note{Key: "note.woken", Args: []any{reason}})
	}
	return ns
}

// queueNote says, on the Begin of an accept or a read, what the kernel
// already holds for it, and so whether the call will wait.
func queueNote(e *Event) Note {
	switch {
	case e.Op == OpAccept && e.Queued == 1:
		return Note{Key: "queue.accept.one"}
	case e.Op == OpAccept && e.Queued > 0:
		return Note{Key: "queue.accept.some", Args: []any{e.Queued}}
	case e.Op == OpAccept:
		return Note{Key: "queue.accept.none"}
	case e.Op == OpRecvfrom && e.Queued > 0:
		return Note{Key: "queue.recvfrom.some", Args: []any{e.Queued}}
	case e.Op == OpRecvfrom:
		return Note{Key: "queue.recvfrom.none"}
	case e.Queued > 0:
		return Note{Key: "queue.read.some", Args: []any{e.Queued}}
	}
	return Note{Key: "queue.read.none"}
}

// appendCall renders the call as strace would show it, shortened.
func (a *Annotator) appendCall(b []byte, e *Event) []byte {
	preview := a.opts.Preview
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
	case OpListen, OpShutdown, OpSetsockopt, OpFcntl, OpIoctl, OpGetsockopt, OpEpollCreate:
		if e.Arg != "" {
			b = append(sep(b), e.Arg...)
		}
	case OpPoll:
		b = appendWaits(sep(b), e.Waits)
		if e.Arg != "" {
			b = append(append(b, ", "...), e.Arg...) // the timeout, as the call takes it
		}
	case OpEpollCtl:
		if e.Command != "" {
			b = append(sep(b), e.Command...)
		}
		for _, w := range e.Waits { // one: the descriptor added, changed or removed
			b = strconv.AppendInt(sep(b), int64(w.FD), 10)
			if ev := w.events(); ev != "" {
				b = append(append(b, ", "...), ev...)
			}
		}
	case OpWrite:
		b = append(b, ", "...)
		b = appendQuotedPreview(b, a.opts.Lang, e.Data, preview)
		b = append(append(b, ", "...), e.Arg...) // the bytes offered
	case OpSendto:
		b = append(b, ", "...)
		b = appendQuotedPreview(b, a.opts.Lang, e.Data, preview)
		b = append(append(b, ", "...), e.Arg...)
		b = append(append(b, ", "...), e.Remote...)
	case OpRead, OpRecvfrom:
		b = append(b, ", "...)
		if e.Phase == End && e.Err == nil {
			b = appendQuotedPreview(b, a.opts.Lang, e.Data, preview)
		} else {
			b = append(b, "…"...)
		}
		b = append(append(b, ", "...), e.Arg...) // the buffer's size
	}
	return append(b, ')')
}

// appendPacketFields renders a packet's numbers, options and payload, as
// tcpdump writes them, so that a student who meets tcpdump later reads it
// already: relative seq and ack, the window in bytes, the payload's
// length and a preview of it, the handshake's options.
func appendPacketFields(b []byte, l i18n.Lang, e *Event, preview int) []byte {
	p := e.Packet
	if p.Proto == "tcp" {
		b = append(b, "seq "...)
		b = strconv.AppendUint(b, uint64(p.Seq), 10)
		if strings.Contains(p.Flags, "ACK") {
			b = append(b, ", ack "...)
			b = strconv.AppendUint(b, uint64(p.Ack), 10)
		}
		b = append(b, ", win "...)
		b = strconv.AppendInt(b, int64(p.Window), 10)
		b = append(b, ", len "...)
		b = strconv.AppendInt(b, int64(e.N), 10)
	} else {
		b = append(b, "len "...)
		b = strconv.AppendInt(b, int64(e.N), 10)
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
		b = append(append(b, "  "...), appendQuotedPreview(nil, l, e.Data, preview)...)
	}
	return b
}

// appendQuotedPreview appends data quoted, at most preview bytes of it,
// and how many more there were, in l.
func appendQuotedPreview(b []byte, l i18n.Lang, data []byte, preview int) []byte {
	b = append(b, '"')
	b = AppendPreview(b, data, preview)
	b = append(b, '"')
	if shown := previewCut(data, preview); shown < len(data) {
		b = append(b, l.T("note.more_bytes", len(data)-shown)...)
	}
	return b
}
