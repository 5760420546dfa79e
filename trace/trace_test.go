package trace

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/socklab/socklab/trace/i18n"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// packet is a packet of the wire view, from peer to to ("" when the trace
// does not know whose the address is).
func packet(peer string, role Role, flags, to string, seq, ack uint32, window int, payload []byte) Event {
	from, dst := "127.0.0.1:50000", "127.0.0.1:40000"
	if role == Server {
		from, dst = dst, from
	}
	p := &Packet{Proto: "tcp", From: from, To: dst, ToPeer: to, Flags: flags, Seq: seq, Ack: ack, Window: window, MSS: -1, WScale: -1}
	if flags == "SYN" || flags == "SYN-ACK" {
		p.MSS, p.WScale, p.SACK = 65495, 7, true
	}
	return Event{Peer: peer, Role: role, Op: OpPacket, FD: -1, N: len(payload), Data: payload, Packet: p}
}

// sampleEvents is a basic exchange written out by hand, with every kind of
// line the text sink prints, including hostile bytes from a peer.
func sampleEvents() []Event {
	ms := time.Millisecond
	evs := []Event{
		{Peer: "server", Role: Server, Op: OpCreate, Phase: End, Syscall: "socket", FD: 3, Ret: 3, Arg: "AF_INET, SOCK_STREAM, 0"},
		{Peer: "server", Role: Server, Op: OpBind, Phase: End, Syscall: "bind", FD: 3, Local: "127.0.0.1:0"},
		{Peer: "server", Role: Server, Op: OpGetsockname, Phase: End, Syscall: "getsockname", FD: 3, Local: "127.0.0.1:40000"},
		{Peer: "server", Role: Server, Op: OpListen, Phase: End, Syscall: "listen", FD: 3, Arg: "128", Kernel: KernelView{State: "LISTEN"}},
		{Peer: "server", Role: Server, Op: OpAccept, Phase: Begin, Syscall: "accept4", FD: 3},
		{Peer: "client", Role: Client, Op: OpCreate, Phase: Begin, Syscall: "socket", FD: -1, Arg: "AF_INET, SOCK_STREAM, 0"},
		{Peer: "client", Role: Client, Op: OpCreate, Phase: End, Syscall: "socket", FD: 4, Ret: 4, Arg: "AF_INET, SOCK_STREAM, 0"},
		{Peer: "client", Role: Client, Op: OpConnect, Phase: Begin, Syscall: "connect", FD: 4, Remote: "127.0.0.1:40000"},
		// The wire view's packets, sent by the kernels.
		packet("client", Client, "SYN", "server", 0, 0, 65495, nil),
		packet("server", Server, "SYN-ACK", "client", 0, 1, 65483, nil),
		packet("client", Client, "ACK", "server", 1, 1, 65536, nil),
		{Peer: "client", Role: Client, Op: OpConnect, Phase: End, Syscall: "connect", FD: 4, Remote: "127.0.0.1:40000", Elapsed: 120 * time.Microsecond},
		{Peer: "server", Role: Server, Op: OpAccept, Phase: End, Syscall: "accept4", FD: 3, Ret: 5, Remote: "127.0.0.1:50000", Elapsed: 2 * ms},
		{Peer: "client", Role: Client, Op: OpWrite, Phase: Begin, Syscall: "write", FD: 4, Arg: "14", Offered: 14, N: 14, Data: []byte("你好, server")},
		{Peer: "client", Role: Client, Op: OpWrite, Phase: End, Syscall: "write", FD: 4, Arg: "14", Offered: 14, Ret: 14, N: 14, Data: []byte("你好, server")},
		packet("client", Client, "PSH-ACK", "server", 1, 1, 65536, []byte("\x1b]0;pwned\a\x1b[2J\xff\u202e!")),
		{Peer: "server", Role: Server, Op: OpRead, Phase: End, Syscall: "read", FD: 5, Arg: "1024", Offered: 1024, Ret: 20, N: 20, Data: []byte("\x1b]0;pwned\a\x1b[2J\xff\u202e!"), Elapsed: 30 * time.Microsecond},
		{Peer: "server", Role: Server, Op: OpRead, Phase: End, Syscall: "read", FD: 5, Arg: "1024", Offered: 1024, Elapsed: ms},
		{Peer: "client-2", Role: Client, Op: OpConnect, Phase: End, Syscall: "connect", FD: 6, Remote: "127.0.0.1:1", Ret: -1, Err: syscall.ECONNREFUSED, Errno: "ECONNREFUSED"},
		{Peer: "client", Role: Client, Op: OpWrite, Phase: Begin, Syscall: "write", FD: 4, Arg: "3000", Offered: 3000, N: 3000, Data: bytes.Repeat([]byte("ab"), 1500)},
		{Peer: "client", Role: Client, Op: OpWrite, Phase: End, Syscall: "write", FD: 4, Arg: "3000", Offered: 3000, Ret: 1000, N: 1000, Data: bytes.Repeat([]byte("ab"), 500)},
		{Peer: "server", Role: Server, Op: OpWrite, Phase: End, Syscall: "write", FD: 5, Arg: "2", Offered: 2, Ret: -1, Err: syscall.EPIPE, Errno: "EPIPE", Data: []byte{}},
		{Peer: "client", Role: Client, Op: OpWrite, Phase: Begin, Syscall: "write", FD: 4, Arg: "90", Offered: 90, N: 90, Data: []byte(strings.Repeat("你", 30))},
		{Peer: "client", Role: Client, Op: OpShutdown, Phase: Begin, Syscall: "shutdown", FD: 4, Arg: "SHUT_WR"},
		{Peer: "client", Role: Client, Op: OpShutdown, Phase: End, Syscall: "shutdown", FD: 4, Arg: "SHUT_WR"},
		{Peer: "client", Role: Client, Op: OpClose, Phase: Begin, Syscall: "close", FD: 4},
		packet("client", Client, "FIN-ACK", "server", 21, 1, 65536, nil),
		packet("server", Server, "RST", "", 1, 0, 0, nil),
		{Peer: "client", Role: Client, Op: OpClose, Phase: End, Syscall: "close", FD: 4, Kernel: KernelView{State: "FIN_WAIT2", PeerState: "CLOSE_WAIT"}},
		{Peer: "server", Role: Server, Op: OpClose, Phase: End, Syscall: "close", FD: 5, Kernel: KernelView{State: "CLOSED", PeerState: "TIME_WAIT", PeerTimer: 59950 * time.Millisecond}},
		{Peer: "client", Role: Client, Op: OpClose, Phase: End, Syscall: "close", FD: 4},
	}
	for i := range evs {
		evs[i].Seq = uint64(i + 1)
		evs[i].Time = time.Duration(i) * 250 * time.Microsecond
		evs[i].Step = StepOf(evs[i].Role, evs[i].Op, evs[i].Phase, evs[i].Err != nil)
	}
	return evs
}

func render(t *testing.T, s Sink) {
	t.Helper()
	for _, e := range sampleEvents() {
		if err := s.Handle(e); err != nil {
			t.Fatal(err)
		}
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test ./trace -update if the change is right):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestTextSinkGolden(t *testing.T) {
	var buf bytes.Buffer
	render(t, NewTextSink(&buf, nil))
	checkGolden(t, "text.golden", buf.Bytes())
	if bytes.ContainsAny(buf.Bytes(), "\x1b\a\x00") {
		t.Errorf("uncoloured text holds a raw control byte:\n%q", buf.String())
	}
}

func TestTextSinkWrapsExplanations(t *testing.T) {
	for _, tt := range []struct {
		width int
		lang  i18n.Lang
	}{{60, i18n.EN}, {60, i18n.ZH}, {100, i18n.EN}} {
		t.Run(fmt.Sprint(tt.width, tt.lang), func(t *testing.T) {
			var buf bytes.Buffer
			render(t, NewTextSink(&buf, &TextOptions{Lang: tt.lang, Explain: true, Width: tt.width}))
			checkGolden(t, fmt.Sprintf("text_%d_%s_explain.golden", tt.width, tt.lang), buf.Bytes())
			for i, line := range strings.Split(buf.String(), "\n") {
				if strings.Contains(line, "↳") || strings.HasPrefix(line, "     ") && !strings.Contains(line, "ms  ") {
					if w := Width(line); w > tt.width {
						t.Errorf("explanation line %d is %d columns wide, more than %d: %q", i+1, w, tt.width, line)
					}
				}
			}
		})
	}
}

func TestTextSinkChineseExplained(t *testing.T) {
	var buf bytes.Buffer
	render(t, NewTextSink(&buf, &TextOptions{Lang: i18n.ZH, Explain: true}))
	checkGolden(t, "text_zh_explain.golden", buf.Bytes())
}

func TestColumnsSinkGolden(t *testing.T) {
	for _, tt := range []struct {
		width int
		lang  i18n.Lang
	}{{80, i18n.EN}, {80, i18n.ZH}, {100, i18n.EN}, {100, i18n.ZH}, {120, i18n.EN}, {120, i18n.ZH}, {160, i18n.EN}, {160, i18n.ZH}} {
		t.Run(fmt.Sprint(tt.width, tt.lang), func(t *testing.T) {
			var buf bytes.Buffer
			render(t, NewColumnsSink(&buf, &ColumnsOptions{TextOptions: TextOptions{Lang: tt.lang}, Width: tt.width}))
			checkGolden(t, fmt.Sprintf("columns_%d_%s.golden", tt.width, tt.lang), buf.Bytes())
			for i, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
				if w := Width(line); w > tt.width {
					t.Errorf("line %d is %d columns wide, more than %d: %q", i+1, w, tt.width, line)
				}
			}
		})
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  []string
	}{
		{"short", 10, []string{"short"}},
		{"the quick brown fox", 10, []string{"the quick", "brown fox"}},
		{"你好世界你好", 6, []string{"你好世", "界你好"}},
		{"unbreakableword", 5, []string{"unbre", "akabl", "eword"}},
		// Chinese breaks between characters, not only at spaces.
		{"↳ socket() 给了服务器一个文件描述符", 16, []string{"↳ socket() 给了", "服务器一个文件描", "述符"}},
		{"accept 返回了一个新的套接字", 14, []string{"accept 返回了", "一个新的套接字"}},
		{"返回了 accept", 8, []string{"返回了", "accept"}},
		{"地址和端口。连接", 10, []string{"地址和端", "口。连接"}},
	}
	for _, tt := range tests {
		if got := Wrap(tt.in, tt.width); !slices.Equal(got, tt.want) {
			t.Errorf("Wrap(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  string
	}{
		{"hello", 10, "hello"},
		{"hello", 5, "hello"},
		{"hello", 4, "hel…"},
		{"你好世界", 8, "你好世界"},
		{"你好世界", 7, "你好世…"},
		{"你好世界", 6, "你好…"},
	}
	for _, tt := range tests {
		if got := Truncate(tt.in, tt.width); got != tt.want || Width(got) > tt.width {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
	}
}

func TestTextSinkColor(t *testing.T) {
	var plain, colored bytes.Buffer
	render(t, NewTextSink(&plain, nil))
	render(t, NewTextSink(&colored, &TextOptions{Color: true}))
	ansi := strings.NewReplacer("\x1b[36m", "", "\x1b[33m", "", "\x1b[35m", "", "\x1b[31;1m", "", "\x1b[0m", "", "\x1b[0;22m", "")
	if got := ansi.Replace(colored.String()); got != plain.String() {
		t.Errorf("colour changed more than colour:\n%s\nwant\n%s", got, plain.String())
	}
	lines := strings.Split(strings.TrimSpace(colored.String()), "\n")
	for _, tt := range []struct {
		contains, color string
	}{
		{"server   [ 1] create", "\x1b[36m"},
		{"client   [ 4] create", "\x1b[33m"},
		{"ECONNREFUSED", "\x1b[31;1m"},
	} {
		found := false
		for _, l := range lines {
			if strings.Contains(l, tt.contains) {
				found = true
				if !strings.HasPrefix(l, tt.color) || !strings.Contains(l[len(tt.color):], "\x1b[0") {
					t.Errorf("line %q: got %q, want it wrapped in %q", tt.contains, l, tt.color)
				}
			}
		}
		if !found {
			t.Errorf("no line contains %q", tt.contains)
		}
	}
}

func TestJSONSink(t *testing.T) {
	var buf bytes.Buffer
	render(t, NewJSONSink(&buf, nil))
	checkGolden(t, "trace.jsonl", buf.Bytes())

	events := sampleEvents()
	sc := bufio.NewScanner(&buf)
	for i := 0; sc.Scan(); i++ {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i+1, err, sc.Bytes())
		}
		// A call has a phase and a syscall; a packet has neither, and
		// its packet object instead.
		fields := []string{"v", "seq", "time_ns", "peer", "op", "phase", "syscall"}
		if events[i].Op == OpPacket {
			fields = []string{"v", "seq", "time_ns", "peer", "op", "n", "packet"}
		}
		for _, field := range fields {
			if _, ok := m[field]; !ok {
				t.Errorf("line %d has no %q: %s", i+1, field, sc.Bytes())
			}
		}
		if _, ok := m["step"]; ok != (events[i].Step != 0) {
			t.Errorf("line %d: step present = %v, want %v", i+1, ok, events[i].Step != 0)
		}
		if d, ok := m["data"].(string); ok && strings.ContainsAny(d, "\x1b\a\x00") {
			t.Errorf("line %d: data holds a raw control byte: %q", i+1, d)
		}
	}
}

func TestSinksConcurrently(t *testing.T) {
	// Every sink is called from several peers at once (a Multi or several
	// tracers may share it): each event must come out whole, once.
	const peers, perPeer = 8, 200
	var textBuf, jsonBuf lockedBuffer
	var rec Recorder
	sinks := map[string]struct {
		sink  Sink
		count func() int
	}{
		"text":     {NewTextSink(&textBuf, nil), func() int { return strings.Count(textBuf.String(), "\n") }},
		"json":     {NewJSONSink(&jsonBuf, nil), func() int { return strings.Count(jsonBuf.String(), "\n") }},
		"recorder": {&rec, func() int { return len(rec.Events()) }},
	}
	for name, s := range sinks {
		t.Run(name, func(t *testing.T) {
			var wg sync.WaitGroup
			for p := range peers {
				wg.Go(func() {
					for i := range perPeer {
						e := Event{Peer: "client", Role: Client, Op: OpRead, Phase: End, Syscall: "read", FD: p, Seq: uint64(p*perPeer + i + 1), Data: []byte("x")}
						if err := s.sink.Handle(e); err != nil {
							t.Error(err)
						}
					}
				})
			}
			wg.Wait()
			if got := s.count(); got != peers*perPeer {
				t.Errorf("got %d events out, want %d", got, peers*perPeer)
			}
		})
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestRecorderCopiesData(t *testing.T) {
	var rec Recorder
	buf := []byte("hello")
	rec.Handle(Event{Op: OpWrite, Data: buf})
	copy(buf, "XXXXX")
	if got := string(rec.Events()[0].Data); got != "hello" {
		t.Errorf("recorded data = %q after the caller reused its buffer; want %q", got, "hello")
	}
}

func TestMultiJoinsErrors(t *testing.T) {
	var rec Recorder
	errA := errors.New("a failed")
	m := Multi(sinkFunc(func(Event) error { return errA }), &rec, NewTextSink(failingWriter{}, nil))
	err := m.Handle(Event{Op: OpRead, Phase: End})
	if !errors.Is(err, errA) || !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("got %v, want both sinks' errors", err)
	}
	if len(rec.Events()) != 1 {
		t.Error("a failing sink stopped the others")
	}
}

type sinkFunc func(Event) error

func (f sinkFunc) Handle(e Event) error { return f(e) }

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestTracerStampsInOrder(t *testing.T) {
	// Many peers at once: sequence numbers are unique and gap-free, and the
	// sink receives them in order with times that never go backwards.
	var got []Event
	tr := New(sinkFunc(func(e Event) error { got = append(got, e); return nil }))
	var wg sync.WaitGroup
	for p := range 8 {
		peer := tr.Peer("client", Client)
		wg.Go(func() {
			for range 100 {
				e := Event{Op: OpWrite, FD: p}
				peer.End(&e, peer.Begin(&e))
			}
		})
	}
	wg.Wait()
	if len(got) != 1600 {
		t.Fatalf("got %d events, want 1600", len(got))
	}
	for i, e := range got {
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d, want %d", i, e.Seq, i+1)
		}
		if i > 0 && e.Time < got[i-1].Time {
			t.Fatalf("time went backwards at seq %d", e.Seq)
		}
	}
}

func TestTracerKeepsFirstSinkError(t *testing.T) {
	tr := New(NewTextSink(failingWriter{}, nil))
	p := tr.Peer("server", Server)
	e := Event{Op: OpClose}
	p.End(&e, p.Begin(&e))
	if !errors.Is(tr.Err(), io.ErrClosedPipe) {
		t.Errorf("Err() = %v, want %v", tr.Err(), io.ErrClosedPipe)
	}
}

func TestNilTracerTracesNothing(t *testing.T) {
	var tr *Tracer
	p := tr.Peer("server", Server)
	e := Event{Op: OpCreate}
	p.End(&e, p.Begin(&e)) // must not panic
	if tr.Err() != nil || p.Name() != "" {
		t.Error("a nil tracer should do nothing")
	}
}

func TestStepOf(t *testing.T) {
	tests := []struct {
		role   Role
		op     Op
		phase  Phase
		failed bool
		want   int
	}{
		{Server, OpCreate, End, false, 1},
		{Server, OpBind, End, false, 2},
		{Server, OpListen, End, false, 3},
		{Client, OpCreate, Begin, false, 4},
		{Client, OpConnect, Begin, false, 5},
		{Server, OpAccept, Begin, false, 6},
		{Client, OpConnect, End, false, 7},
		{Client, OpConnect, End, true, 5},
		{Server, OpAccept, End, false, 8},
		{Server, OpAccept, End, true, 6},
		{Client, OpWrite, End, false, 9},
		{Server, OpRead, Begin, false, 10},
		{Client, OpClose, End, false, 11},
		{Server, OpClose, End, false, 11},
		{Client, OpBind, End, false, 0},
		{Client, OpShutdown, End, false, 0},
		{Server, OpGetsockname, End, false, 0},
	}
	for _, tt := range tests {
		if got := StepOf(tt.role, tt.op, tt.phase, tt.failed); got != tt.want {
			t.Errorf("StepOf(%s, %s, %s, failed=%v) = %d, want %d", tt.role, tt.op, tt.phase, tt.failed, got, tt.want)
		}
	}
	for i, s := range Steps {
		if s.Num != i+1 {
			t.Errorf("Steps[%d].Num = %d, want %d", i, s.Num, i+1)
		}
	}
}

// stampedBefore is a Wire that holds, for each call's event, one packet
// stamped a moment before it, handed over only once the trace reaches it.
type stampedBefore struct {
	observed []Op
	pending  []Event
}

func (w *stampedBefore) Observe(e *Event) {
	w.observed = append(w.observed, e.Op)
	w.pending = append(w.pending, Event{Op: OpPacket, Time: e.Time - time.Nanosecond, Packet: &Packet{Proto: "tcp", Flags: "ACK"}})
}

func (w *stampedBefore) Until(t time.Duration, emit func(Event)) {
	for len(w.pending) > 0 && w.pending[0].Time <= t {
		emit(w.pending[0])
		w.pending = w.pending[1:]
	}
}

// TestWireMergesByTime: the tracer shows the wire each call's event
// before any sink, and hands over the wire's events stamped before it
// first, numbered in the one sequence, so that times never go backwards.
func TestWireMergesByTime(t *testing.T) {
	var rec Recorder
	w := &stampedBefore{}
	tr := New(&rec).SetWire(w)
	p := tr.Peer("client", Client)
	for _, op := range []Op{OpCreate, OpConnect, OpWrite} {
		e := Event{Op: op, Syscall: string(op), FD: 3}
		p.End(&e, time.Now())
	}
	tr.FlushWire()
	var got []string
	events := rec.Events()
	for i, e := range events {
		got = append(got, string(e.Op))
		if e.Seq != uint64(i+1) {
			t.Errorf("event %d has seq %d", i, e.Seq)
		}
		if i > 0 && e.Time < events[i-1].Time {
			t.Errorf("seq %d is stamped before seq %d", e.Seq, events[i-1].Seq)
		}
	}
	// Each packet is stamped a moment before its call: the tracer,
	// asking the wire as it stamps the call, hands the packet over first.
	if want := "[packet create packet connect packet write]"; fmt.Sprint(got) != want {
		t.Errorf("order %v, want each packet before its call: %s", got, want)
	}
	if fmt.Sprint(w.observed) != "[create connect write]" {
		t.Errorf("the wire observed %v", w.observed)
	}
}

// TestTextSinkMarksALatePacket: a packet that reached the capture after a
// call stamped later keeps its own time, and its line says why it is out
// of place.
func TestTextSinkMarksALatePacket(t *testing.T) {
	var buf bytes.Buffer
	s := NewTextSink(&buf, nil)
	late := packet("client", Client, "FIN-ACK", "server", 15, 23, 65536, nil)
	late.Time = 1500 * time.Microsecond
	for _, e := range []Event{
		{Peer: "server", Role: Server, Op: OpRead, Phase: Begin, Step: 10, Syscall: "read", FD: 5, Arg: "1024", Offered: 1024, Time: 1620 * time.Microsecond},
		late,
	} {
		if err := s.Handle(e); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "    1.500ms  client        FIN-ACK") || !strings.HasSuffix(lines[1], "(reached the capture late: sent before the line above)") {
		t.Errorf("got:\n%s", buf.String())
	}
}

// TestJSONSinkExplains: with Explain, each line names the sentence
// --explain shows for it, chosen from the call's context as the text view
// chooses it (a read that got part of a write is partial); without it,
// no line has the field.
func TestJSONSinkExplains(t *testing.T) {
	events := []Event{
		{Seq: 1, Peer: "client", Role: Client, Op: OpWrite, Phase: Begin, Syscall: "write", FD: 3, Local: "127.0.0.1:5000", Remote: "127.0.0.1:80", N: 10, Arg: "10", Offered: 10, Data: []byte("0123456789")},
		{Seq: 2, Peer: "client", Role: Client, Op: OpWrite, Phase: End, Syscall: "write", FD: 3, Local: "127.0.0.1:5000", Remote: "127.0.0.1:80", N: 10, Arg: "10", Offered: 10, Ret: 10},
		{Seq: 3, Peer: "server", Role: Server, Op: OpRead, Phase: End, Syscall: "read", FD: 4, Local: "127.0.0.1:80", Remote: "127.0.0.1:5000", N: 4, Ret: 4, Data: []byte("0123")},
	}
	for _, explain := range []bool{false, true} {
		var buf bytes.Buffer
		s := NewJSONSink(&buf, &JSONOptions{Explain: explain})
		for _, e := range events {
			if err := s.Handle(e); err != nil {
				t.Fatal(err)
			}
		}
		var keys []string
		for sc := bufio.NewScanner(&buf); sc.Scan(); {
			var j JSONEvent
			if err := json.Unmarshal(sc.Bytes(), &j); err != nil {
				t.Fatal(err)
			}
			keys = append(keys, j.Explain)
		}
		want := []string{"", "", ""}
		if explain {
			want = []string{"explain.write", "", "explain.read.partial"}
		}
		if !slices.Equal(keys, want) {
			t.Errorf("Explain %v: got %q, want %q", explain, keys, want)
		}
	}
}
