package trace

import (
	"cmp"
	"slices"
	"sync"
	"time"
	"unsafe"
)

// A Recorder keeps every event in memory, for tests and for tools that look
// at a whole run. Its zero value is ready to use.
//
// Recording costs about as much as the tracer itself and no allocation in
// steady state (docs/performance.md): events are kept in a compact form
// without pointers, in chunks of fixed size, so that growing never copies
// what is kept and the garbage collector has nothing in them to scan;
// strings are kept once each (a trace repeats a few dozen of them), and
// data in an arena of byte chunks. Memory grows linearly with the events
// kept, by about 150 bytes an event plus its data.
type Recorder struct {
	// DataLimit is how many bytes of each event's Data the recorder keeps:
	// 0 means DefaultDataLimit, a negative limit keeps all. A longer Data
	// is kept cut short; N and Ret still say how many bytes the call
	// transferred. Copying every byte of a bulk transfer would cost more
	// than the transfer's own syscalls.
	DataLimit int

	mu      sync.Mutex
	chunks  [][]record // full chunks, then the one being filled
	n       int        // events kept
	arena   [][]byte   // data
	fill    int        // 1 + the index of the arena chunk being filled, 0 for none
	strs    []string   // every string kept, once; strs[0] is ""
	index   map[string]uint32
	cache   [64]stringRef // indexes of strings by where their bytes are
	errs    []error       // the errors kept; record.err is an index + 1
	packets []Packet      // the packets kept (the wire view); record.packet is an index + 1
	waits   [][]Wait      // the polls' waits kept; record.waits is an index + 1
}

// DefaultDataLimit is a Recorder's DataLimit when none is set: a lesson's
// read buffer, which bounds the messages the command sends. A bulk
// transfer's data is not kept: copying it costs more than the 2% of its
// syscalls' time the tracer may take (docs/performance.md).
const DefaultDataLimit = 1 << 10

// Sizes of a Recorder's chunks: 512 records are about 80 KiB.
const (
	recordChunk = 512
	arenaChunk  = 64 << 10
)

// cacheBits is the size of a Recorder's cache of strings: 64 entries, for
// the few dozen strings a trace repeats.
const cacheBits = 6

// The string fields of an Event, in a record's str array.
const (
	strPeer = iota
	strRole
	strOp
	strPhase
	strSyscall
	strKind
	strArg
	strLocal
	strRemote
	strErrno
	strInterrupt
	strState
	strPeerState
	strSignal
	strStateFrom
	strOption
	strCommand
	strSourceFile
	strSourceText
	numStrs
)

// A record is an Event without pointers.
type record struct {
	seq                                       uint64
	time, elapsed, stateTimer, peerStateTimer time.Duration
	step, fd, ret, n, pid, copies, offered    int
	data                                      dataRef
	err                                       uint32 // 0 for nil, else errs[err-1]
	packet                                    uint32 // 0 for nil, else packets[packet-1]
	waits                                     uint32 // 0 for nil, else waits[waits-1]
	timeout                                   time.Duration
	value, queued, sourceLine                 int
	queueKnown, connected                     bool
	str                                       [numStrs]uint32
	nonblock, abort                           bool
}

// A dataRef is where an event's data is in the arena.
type dataRef struct {
	chunk, off uint32
	len        int32 // -1: Data was nil
}

// Handle records e, copying as much of its data as DataLimit allows.
func (r *Recorder) Handle(e Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.strs == nil {
		r.strs = []string{""} // index 0, the empty string, for every field
		r.index = map[string]uint32{}
	}
	if r.n%recordChunk == 0 {
		r.chunks = append(r.chunks, make([]record, 0, recordChunk))
	}
	rec := record{
		seq: e.Seq, time: e.Time, elapsed: e.Elapsed, stateTimer: e.Kernel.Timer, peerStateTimer: e.Kernel.PeerTimer,
		step: e.Step, fd: e.FD, ret: e.Ret, n: e.N, pid: e.PID, copies: e.Copies, nonblock: e.Nonblock,
		offered: e.Offered, abort: e.Abort, timeout: e.Timeout, value: e.Value, queued: e.Queued,
		queueKnown: e.QueueKnown, connected: e.Connected, sourceLine: e.Source.Line,
		data: r.keepData(e.Data),
	}
	if e.Err != nil {
		r.errs = append(r.errs, e.Err)
		rec.err = uint32(len(r.errs))
	}
	if e.Packet != nil {
		r.packets = append(r.packets, *e.Packet)
		rec.packet = uint32(len(r.packets))
	}
	if e.Waits != nil {
		r.waits = append(r.waits, slices.Clone(e.Waits)) // the caller's, like Data
		rec.waits = uint32(len(r.waits))
	}
	strs := [numStrs]string{
		strPeer: e.Peer, strRole: string(e.Role), strOp: string(e.Op), strPhase: string(e.Phase),
		strSyscall: e.Syscall, strKind: e.Kind, strArg: e.Arg, strLocal: e.Local, strRemote: e.Remote,
		strErrno: e.Errno, strInterrupt: e.Interrupt, strState: e.Kernel.State, strPeerState: e.Kernel.PeerState, strSignal: e.Signal,
		strStateFrom: e.Kernel.From, strOption: e.Option, strCommand: e.Command,
		strSourceFile: e.Source.File, strSourceText: e.Source.Text,
	}
	for f, s := range &strs {
		// Events repeat a few strings, most of them the very same string
		// each time: a constant (the op, the syscall's name) or one the
		// socket keeps (its addresses, the peer's name). So the index is
		// looked up first by where the bytes are, in a small cache: a few
		// nanoseconds, where a map lookup takes tens.
		p := unsafe.StringData(s)
		c := &r.cache[(uint64(uintptr(unsafe.Pointer(p)))+uint64(len(s)))*0x9E3779B97F4A7C15>>(64-cacheBits)]
		if c.p != p || c.n != len(s) {
			r.keepString(s, c)
		}
		rec.str[f] = c.i
	}
	last := &r.chunks[len(r.chunks)-1]
	*last = append(*last, rec)
	r.n++
	return nil
}

// keepString keeps s, if it is new, and puts its index in the cache
// entry c. Called with r.mu held.
func (r *Recorder) keepString(s string, c *stringRef) {
	var i uint32 // "" is 0
	if s != "" {
		var ok bool
		if i, ok = r.index[s]; !ok {
			i = uint32(len(r.strs))
			r.strs = append(r.strs, s)
			r.index[s] = i
		}
	}
	*c = stringRef{unsafe.StringData(s), len(s), i}
}

// A stringRef is an entry of a Recorder's cache of strings by address.
type stringRef struct {
	p *byte
	n int
	i uint32
}

// keepData copies data, cut to DataLimit, into the arena.
func (r *Recorder) keepData(data []byte) dataRef {
	if data == nil {
		return dataRef{len: -1}
	}
	limit := r.DataLimit
	if limit == 0 {
		limit = DefaultDataLimit
	}
	if limit > 0 && len(data) > limit {
		data = data[:limit]
	}
	if len(data) > arenaChunk/4 {
		// Large data gets a chunk of its own rather than wasting most of
		// the one being filled.
		r.arena = append(r.arena, slices.Clone(data))
		return dataRef{chunk: uint32(len(r.arena) - 1), len: int32(len(data))}
	}
	if r.fill == 0 || cap(r.arena[r.fill-1])-len(r.arena[r.fill-1]) < len(data) {
		r.arena = append(r.arena, make([]byte, 0, arenaChunk))
		r.fill = len(r.arena)
	}
	c := r.fill - 1
	off := len(r.arena[c])
	r.arena[c] = append(r.arena[c], data...)
	return dataRef{chunk: uint32(c), off: uint32(off), len: int32(len(data))}
}

// event turns rec back into an Event.
func (r *Recorder) event(rec *record) Event {
	e := Event{
		Seq: rec.seq, Time: rec.time, Elapsed: rec.elapsed,
		Step: rec.step, FD: rec.fd, Ret: rec.ret, N: rec.n, PID: rec.pid, Copies: rec.copies, Nonblock: rec.nonblock,
		Peer: r.strs[rec.str[strPeer]], Role: Role(r.strs[rec.str[strRole]]), Op: Op(r.strs[rec.str[strOp]]),
		Phase: Phase(r.strs[rec.str[strPhase]]), Syscall: r.strs[rec.str[strSyscall]], Kind: r.strs[rec.str[strKind]],
		Arg: r.strs[rec.str[strArg]], Local: r.strs[rec.str[strLocal]], Remote: r.strs[rec.str[strRemote]],
		Errno: r.strs[rec.str[strErrno]], Interrupt: r.strs[rec.str[strInterrupt]],
		Signal: r.strs[rec.str[strSignal]], Option: r.strs[rec.str[strOption]], Command: r.strs[rec.str[strCommand]],
		Offered: rec.offered, Abort: rec.abort, Timeout: rec.timeout, Value: rec.value, Queued: rec.queued,
		QueueKnown: rec.queueKnown, Connected: rec.connected,
		Source: Source{File: r.strs[rec.str[strSourceFile]], Line: rec.sourceLine, Text: r.strs[rec.str[strSourceText]]},
		Kernel: KernelView{State: r.strs[rec.str[strState]], Timer: rec.stateTimer,
			PeerState: r.strs[rec.str[strPeerState]], PeerTimer: rec.peerStateTimer, From: r.strs[rec.str[strStateFrom]]},
	}
	if rec.err != 0 {
		e.Err = r.errs[rec.err-1]
	}
	if rec.waits != 0 {
		e.Waits = r.waits[rec.waits-1]
	}
	if rec.packet != 0 {
		p := r.packets[rec.packet-1]
		e.Packet = &p
	}
	if d := rec.data; d.len >= 0 {
		end := d.off + uint32(d.len)
		// The full slice expression keeps an append to one event's data
		// from overwriting the next event's.
		e.Data = r.arena[d.chunk][d.off:end:end]
	}
	return e
}

// Events returns the events recorded so far, in sequence order. Their Data
// is shared with the recorder: do not modify it.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	if r.strs == nil {
		r.strs = []string{""}
		r.index = map[string]uint32{} // Handle expects both or neither
	}
	events := make([]Event, 0, r.n)
	for _, c := range r.chunks {
		for i := range c {
			events = append(events, r.event(&c[i]))
		}
	}
	r.mu.Unlock()
	// One tracer hands events over in order, but a recorder may serve
	// several tracers.
	slices.SortStableFunc(events, func(a, b Event) int {
		return cmp.Compare(a.Seq, b.Seq)
	})
	return events
}
