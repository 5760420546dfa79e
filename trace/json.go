package trace

import (
	"encoding/json"
	"io"
	"sync"
	"time"
)

// SchemaVersion is the version of the JSON Lines schema, the "v" field of
// every line. It changes only when a field changes meaning or goes away;
// new fields may appear without a change.
const SchemaVersion = 2

// JSONOptions configures [NewJSONSink]. The zero value is the default.
type JSONOptions struct {
	// Preview is how many bytes of data each line carries in "data";
	// 0 means 4096.
	Preview int
	// Explain adds to each line the catalogue key of the sentence that
	// --explain shows for it ("explain.bind"), chosen as the text sink
	// chooses it: from what the call really did, in its context.
	Explain bool
}

// JSONSink writes one JSON object per event, one per line (JSON Lines).
// The schema is documented in docs/trace-format.md.
type JSONSink struct {
	w    io.Writer
	opts JSONOptions
	mu   sync.Mutex
	ann  *Annotator // what each event means, as the terminal shows it
}

// NewJSONSink returns a sink that writes JSON Lines to w. opts may be nil.
func NewJSONSink(w io.Writer, opts *JSONOptions) *JSONSink {
	s := &JSONSink{w: w}
	if opts != nil {
		s.opts = *opts
	}
	if s.opts.Preview <= 0 {
		s.opts.Preview = 4096
	}
	// The call text is the terminal's, in English: a program reading
	// the trace shows what a person would have seen.
	s.ann = NewAnnotator(&AnnotateOptions{Explain: s.opts.Explain, Hidden: true})
	return s
}

// JSONEvent is one line of the JSON Lines trace: the wire form of an
// [Event]. Optional fields are omitted when they do not apply.
type JSONEvent struct {
	V       int    `json:"v"`
	Seq     uint64 `json:"seq"`
	TimeNS  int64  `json:"time_ns"`
	Peer    string `json:"peer"`
	Role    Role   `json:"role"`
	Op      Op     `json:"op"`
	Phase   Phase  `json:"phase,omitempty"`
	Step    int    `json:"step,omitempty"`
	Syscall string `json:"syscall,omitempty"`
	Kind    string `json:"kind,omitempty"`
	FD      *int   `json:"fd,omitempty"`
	Arg     string `json:"arg,omitempty"`
	Local   string `json:"local,omitempty"`
	Remote  string `json:"remote,omitempty"`
	Ret     *int   `json:"ret,omitempty"`
	N       *int   `json:"n,omitempty"`
	// Data is the bytes as the content of a Go string literal (see
	// [Preview]): safe to print, and strconv.Unquote gives them back unless
	// DataTruncated.
	Data          *string `json:"data,omitempty"`
	DataTruncated bool    `json:"data_truncated,omitempty"`
	EOF           bool    `json:"eof,omitempty"`
	Err           string  `json:"err,omitempty"`
	Errno         string  `json:"errno,omitempty"`
	DurNS         *int64  `json:"dur_ns,omitempty"`
	Interrupt     string  `json:"interrupt,omitempty"`
	Nonblock      bool    `json:"nonblock,omitempty"`
	Signal        string  `json:"signal,omitempty"`
	PID           int     `json:"pid,omitempty"`
	Copies        int     `json:"copies,omitempty"`
	State         string  `json:"state,omitempty"`
	StateTimerNS  int64   `json:"state_timer_ns,omitempty"`
	PeerState     string  `json:"peer_state,omitempty"`
	PeerTimerNS   int64   `json:"peer_state_timer_ns,omitempty"`
	StateFrom     string  `json:"state_from,omitempty"`
	// The waits of a poll or epoll_ctl, a poll's timeout, the value a
	// getsockopt read or an ioctl set, what the kernel held when an
	// accept or read began, and the call where a non-blocking connect's
	// program learned it was done (see [Event]).
	Waits     []Wait `json:"waits,omitempty"`
	TimeoutNS *int64 `json:"timeout_ns,omitempty"`
	Value     *int   `json:"value,omitempty"`
	Queued    *int   `json:"queued,omitempty"`
	Connected bool   `json:"connected,omitempty"`
	// Source is the line of the traced program that made the call, when
	// socklab knows it (see [Event]).
	Source *JSONSource `json:"source,omitempty"`
	// Packet is a packet of the wire view (op "packet"), which has no
	// phase and no syscall.
	Packet *Packet `json:"packet,omitempty"`
	// Explain is the catalogue key of the line's explanation, with
	// JSONOptions.Explain (--format=json --explain).
	Explain string `json:"explain,omitempty"`

	// What the terminal shows for the event (see [Annotation]), so that a
	// reader draws it without working it out again: Shown says whether
	// the text view gives the event a line; Call is the call as that line
	// writes it (`accept4(3, …)`; a packet's numbers); Result what it
	// returned, as strace writes it (`= -1 ECONNREFUSED`); Notes are the
	// remarks after it, as catalogue keys with their arguments; Late
	// marks a packet that reached the capture after a later line.
	Shown  bool       `json:"shown"`
	Call   string     `json:"call,omitempty"`
	Result string     `json:"result,omitempty"`
	Notes  []JSONNote `json:"notes,omitempty"`
	Late   bool       `json:"late,omitempty"`
}

// A JSONSource is an [Event]'s Source in the JSON trace.
type JSONSource struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Text string `json:"text"`
}

// A JSONNote is a [Note] in the JSON trace: its catalogue key and
// arguments, numbers and strings as they are, a duration as Go writes it
// ("1.5ms"), a note within a note as an object of its own (a list of
// them, a wait's descriptors, as an array of such objects).
type JSONNote struct {
	Key  string `json:"key,omitempty"`
	Args []any  `json:"args,omitempty"`
}

func jsonNote(n Note) JSONNote {
	j := JSONNote{Key: n.Key}
	for _, a := range n.Args {
		switch a := a.(type) {
		case Note:
			j.Args = append(j.Args, jsonNote(a))
		case []Note: // a list (a poll's descriptors): each an object too
			list := make([]JSONNote, len(a))
			for i, n := range a {
				list[i] = jsonNote(n)
			}
			j.Args = append(j.Args, list)
		case time.Duration:
			j.Args = append(j.Args, a.String())
		default:
			j.Args = append(j.Args, a)
		}
	}
	return j
}

// annotate adds to j what an says.
func (j *JSONEvent) annotate(an Annotation) {
	j.Explain, j.Shown, j.Call, j.Result, j.Late = an.Explain, an.Shown, an.Call, an.Result, an.Late
	for _, n := range an.Notes {
		j.Notes = append(j.Notes, jsonNote(n))
	}
}

// ToJSON returns the wire form of e, keeping at most preview bytes of data
// (all when preview <= 0).
func ToJSON(e *Event, preview int) JSONEvent {
	j := JSONEvent{
		V: SchemaVersion, Seq: e.Seq, TimeNS: int64(e.Time),
		Peer: e.Peer, Role: e.Role, Op: e.Op, Phase: e.Phase, Step: e.Step,
		Syscall: e.Syscall, Kind: e.Kind, Arg: e.Arg, Local: e.Local, Remote: e.Remote,
		Errno: e.Errno, EOF: e.EOF(), Interrupt: e.Interrupt, Nonblock: e.Nonblock,
		Signal: e.Signal, PID: e.PID, Copies: e.Copies,
		State: e.Kernel.State, StateTimerNS: int64(e.Kernel.Timer),
		PeerState: e.Kernel.PeerState, PeerTimerNS: int64(e.Kernel.PeerTimer), StateFrom: e.Kernel.From,
	}
	if e.FD >= 0 {
		j.FD = &e.FD
	}
	if e.Op == OpRead || e.Op == OpWrite || e.Op == OpPacket {
		j.N = &e.N
	}
	j.Packet = e.Packet
	if e.Source.File != "" {
		j.Source = &JSONSource{File: e.Source.File, Line: e.Source.Line, Text: e.Source.Text}
	}
	j.Waits, j.Connected = e.Waits, e.Connected
	if e.Op == OpPoll {
		d := int64(e.Timeout)
		j.TimeoutNS = &d
	}
	if e.Op == OpGetsockopt || e.Op == OpIoctl {
		j.Value = &e.Value
	}
	if e.QueueKnown {
		j.Queued = &e.Queued
	}
	if e.Data != nil {
		d, truncated := Preview(e.Data, preview)
		j.Data, j.DataTruncated = &d, truncated
	}
	if e.Phase == End {
		j.Ret = &e.Ret
		d := int64(e.Elapsed)
		j.DurNS = &d
	}
	if e.Err != nil {
		j.Err = e.Err.Error()
	}
	return j
}

// Handle writes e as one line with a single Write.
func (s *JSONSink) Handle(e Event) error {
	j := ToJSON(&e, s.opts.Preview)
	s.mu.Lock()
	defer s.mu.Unlock()
	// Under s.mu: the annotator follows the events in the order they
	// are written.
	j.annotate(s.ann.Annotate(&e))
	line, err := json.Marshal(j)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	_, err = s.w.Write(line)
	return err
}
