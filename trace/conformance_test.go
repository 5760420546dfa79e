package trace_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/i18n"
)

// The conformance table of the sinks, as testing/slogtest is log/slog's
// handlers': every sink goes through the same run, handed over as a traced
// run hands it — each peer from its own goroutine — and must keep the
// promises of trace.Sink:
//   - at most one Write per event, of whole lines: a line never shares a
//     Write with another peer's, nor is split across two;
//   - safe for concurrent use (the suite runs under the race detector in CI);
//   - e.Data is the caller's buffer, reused once Handle returns: a sink
//     that keeps an event keeps a copy;
//   - an error is returned, not swallowed, and Multi joins them all.

// conformanceSinks are the sinks under test. make builds one writing to w;
// kept, for a sink that keeps events, returns them once the sink is done;
// close ends it (nil when there is nothing to end).
type conformanceSink struct {
	name  string
	make  func(w io.Writer) trace.Sink
	kept  func(s trace.Sink) []trace.Event
	close func(s trace.Sink) error
	lines bool // writes whole lines, one Write per event at most
}

func conformanceSinks() []conformanceSink {
	recorded := func(s trace.Sink) []trace.Event { return s.(*trace.Recorder).Events() }
	return []conformanceSink{
		{name: "text", lines: true, make: func(w io.Writer) trace.Sink { return trace.NewTextSink(w, nil) }},
		{name: "text zh explain colour", lines: true, make: func(w io.Writer) trace.Sink {
			return trace.NewTextSink(w, &trace.TextOptions{Lang: i18n.ZH, Explain: true, Color: true, Width: 60})
		}},
		{name: "columns", lines: true, make: func(w io.Writer) trace.Sink {
			return trace.NewColumnsSink(w, &trace.ColumnsOptions{TextOptions: trace.TextOptions{Explain: true}, Width: 80})
		}},
		{name: "json", lines: true, make: func(w io.Writer) trace.Sink { return trace.NewJSONSink(w, nil) }},
		// What socklab web sends its pages: each Write one message.
		{name: "json explain (web's)", lines: true, make: func(w io.Writer) trace.Sink {
			return trace.NewJSONSink(w, &trace.JSONOptions{Explain: true})
		}},
		{name: "mermaid", lines: true, make: func(w io.Writer) trace.Sink { return trace.NewMermaidSink(w, nil) }},
		{name: "recorder", make: func(io.Writer) trace.Sink { return &trace.Recorder{} }, kept: recorded},
		{name: "multi", lines: true, make: func(w io.Writer) trace.Sink {
			return trace.Multi(trace.NewJSONSink(w, nil), &trace.Recorder{}, trace.Discard)
		}},
		{name: "async", make: func(io.Writer) trace.Sink {
			inner := &trace.Recorder{}
			a := trace.Async(inner, 4)
			asyncMu.Lock()
			asyncInners[a] = inner
			asyncMu.Unlock()
			return a
		},
			close: func(s trace.Sink) error { return s.(*trace.AsyncSink).Close() },
			kept: func(s trace.Sink) []trace.Event {
				return recorded(asyncInner(s))
			}},
		{name: "async text", lines: true, make: func(w io.Writer) trace.Sink { return trace.Async(trace.NewTextSink(w, nil), 2) },
			close: func(s trace.Sink) error { return s.(*trace.AsyncSink).Close() }},
		{name: "discard", make: func(io.Writer) trace.Sink { return trace.Discard }},
	}
}

// asyncInners remembers the Recorder each Async of the table wraps.
var (
	asyncMu     sync.Mutex
	asyncInners = map[trace.Sink]trace.Sink{}
)

func asyncInner(s trace.Sink) trace.Sink {
	asyncMu.Lock()
	defer asyncMu.Unlock()
	return asyncInners[s]
}

// conformanceRun is one run's events, each peer's in its own order, as a
// traced run makes them: the data of every write and read is a buffer of
// the caller's.
func conformanceRun() map[string][]trace.Event {
	const server, client = "server", "client"
	ev := func(peer string, role trace.Role, op trace.Op, phase trace.Phase, fd int, data string) trace.Event {
		e := trace.Event{Peer: peer, Role: role, Op: op, Phase: phase, Syscall: string(op), FD: fd, Kind: "tcp",
			Local: "127.0.0.1:40000", Remote: "127.0.0.1:50000", Step: trace.StepOf(role, op, phase, false)}
		if role == trace.Client {
			e.Local, e.Remote = e.Remote, e.Local
		}
		if op == trace.OpCreate {
			e.Syscall, e.Arg = "socket", "AF_INET, SOCK_STREAM, 0"
		}
		if op == trace.OpWrite || op == trace.OpRead {
			e.Offered, e.Arg = 1024, "1024"
		}
		if data != "" || op == trace.OpWrite {
			e.Data, e.N, e.Ret, e.Offered, e.Arg = []byte(data), len(data), len(data), len(data), fmt.Sprint(len(data))
		}
		if phase == trace.End && op == trace.OpClose {
			e.Kernel = trace.KernelView{State: "TIME_WAIT", From: "sock_diag"}
		}
		return e
	}
	calls := func(peer string, role trace.Role, fd int, ops ...any) []trace.Event {
		var out []trace.Event
		for i := 0; i < len(ops); i += 2 {
			op, data := ops[i].(trace.Op), ops[i+1].(string)
			out = append(out, ev(peer, role, op, trace.Begin, fd, data), ev(peer, role, op, trace.End, fd, data))
		}
		return out
	}
	big := strings.Repeat("0123456789", 20)
	return map[string][]trace.Event{
		server: calls(server, trace.Server, 3,
			trace.OpCreate, "", trace.OpBind, "", trace.OpListen, "", trace.OpAccept, "",
			trace.OpRead, "hello, server", trace.OpWrite, "你好, client "+big, trace.OpRead, "", trace.OpClose, ""),
		client: calls(client, trace.Client, 4,
			trace.OpCreate, "", trace.OpConnect, "", trace.OpWrite, "hello, server",
			trace.OpRead, "你好, client "+big, trace.OpClose, ""),
	}
}

// lineWriter counts the Writes a sink makes and checks each is whole lines.
type lineWriter struct {
	mu     sync.Mutex
	writes int
	buf    bytes.Buffer
	split  []string // Writes that did not end a line
	fail   error    // returned by every Write, when set
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	if len(p) > 0 && p[len(p)-1] != '\n' {
		w.split = append(w.split, string(p))
	}
	w.buf.Write(p)
	if w.fail != nil {
		return 0, w.fail
	}
	return len(p), nil
}

func (w *lineWriter) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writes
}

// clobber is what the caller's buffers hold once Handle has returned: a
// sink that kept e.Data instead of a copy shows it.
const clobber = 'Z'

func handleAndReuse(s trace.Sink, e trace.Event) error {
	if e.Data != nil {
		e.Data = bytes.Clone(e.Data) // the caller's own buffer
	}
	err := s.Handle(e)
	for i := range e.Data {
		e.Data[i] = clobber // reused for the next call
	}
	return err
}

func TestSinkConformance(t *testing.T) {
	run := conformanceRun()
	peers := []string{"server", "client"}
	total := len(run["server"]) + len(run["client"])
	for _, tt := range conformanceSinks() {
		t.Run(tt.name, func(t *testing.T) {
			// One peer at a time: each event gets at most one Write.
			t.Run("one write per event", func(t *testing.T) {
				w := &lineWriter{}
				s := tt.make(w)
				for _, peer := range peers {
					for _, e := range run[peer] {
						before := w.count()
						if err := handleAndReuse(s, e); err != nil {
							t.Fatalf("%s %s %s: %v", e.Peer, e.Op, e.Phase, err)
						}
						if tt.close == nil { // an Async writes later, in its own goroutine
							if n := w.count() - before; n > 1 {
								t.Errorf("%s %s %s: %d Writes, want at most one", e.Peer, e.Op, e.Phase, n)
							}
						}
					}
				}
				closeSink(t, tt, s)
				if n := w.count(); n > total {
					t.Errorf("%d Writes for %d events", n, total)
				}
				checkLines(t, tt, w)
			})
			// Both peers at once, as in a run.
			t.Run("two peers at once", func(t *testing.T) {
				w := &lineWriter{}
				s := tt.make(w)
				var wg sync.WaitGroup
				errs := make(chan error, total)
				for _, peer := range peers {
					wg.Go(func() {
						for _, e := range run[peer] {
							if err := handleAndReuse(s, e); err != nil {
								errs <- fmt.Errorf("%s %s %s: %w", e.Peer, e.Op, e.Phase, err)
							}
						}
					})
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Error(err)
				}
				closeSink(t, tt, s)
				if n := w.count(); n > total {
					t.Errorf("%d Writes for %d events", n, total)
				}
				checkLines(t, tt, w)
				if tt.kept == nil {
					return
				}
				kept := tt.kept(s)
				if len(kept) != total {
					t.Fatalf("kept %d events, want %d", len(kept), total)
				}
				for _, peer := range peers {
					var got []trace.Event
					for _, e := range kept {
						if e.Peer == peer {
							got = append(got, e)
						}
					}
					for i, want := range run[peer] {
						if !bytes.Equal(got[i].Data, want.Data) {
							t.Errorf("%s's event %d (%s %s) kept data %q, want %q: the caller's buffer, not a copy",
								peer, i, want.Op, want.Phase, got[i].Data, want.Data)
						}
					}
				}
			})
		})
	}
}

func closeSink(t *testing.T, tt conformanceSink, s trace.Sink) {
	t.Helper()
	if tt.close != nil {
		if err := tt.close(s); err != nil {
			t.Errorf("close: %v", err)
		}
	}
}

// checkLines checks that a sink's output is whole lines in whole Writes,
// with no byte of a buffer the caller reused after Handle.
func checkLines(t *testing.T, tt conformanceSink, w *lineWriter) {
	t.Helper()
	if !tt.lines {
		return
	}
	if w.buf.Len() == 0 {
		t.Errorf("wrote nothing")
	}
	if len(w.split) > 0 {
		t.Errorf("%d Writes ended mid-line, the first %q", len(w.split), w.split[0])
	}
	if bytes.Contains(w.buf.Bytes(), []byte{clobber, clobber, clobber}) {
		t.Errorf("the output shows a buffer the caller reused after Handle returned:\n%s", w.buf.String())
	}
}

// TestSinkErrors: a sink's error is its Handle's (an Async's from then on,
// and from Close), and Multi returns every sink's, joined.
func TestSinkErrors(t *testing.T) {
	e := conformanceRun()["client"][0]
	errA, errB := errors.New("disk full"), errors.New("pipe closed")
	for _, tt := range conformanceSinks() {
		if !tt.lines || tt.close != nil {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			w := &lineWriter{fail: errA}
			s := tt.make(w)
			var err error
			for _, e := range conformanceRun()["server"] {
				if err = s.Handle(e); err != nil {
					break
				}
			}
			if !errors.Is(err, errA) {
				t.Errorf("Handle returned %v, want the writer's %v", err, errA)
			}
		})
	}
	t.Run("multi joins", func(t *testing.T) {
		m := trace.Multi(failing{errA}, trace.Discard, failing{errB})
		err := m.Handle(e)
		if !errors.Is(err, errA) || !errors.Is(err, errB) {
			t.Errorf("Multi returned %v, want both %v and %v", err, errA, errB)
		}
	})
	t.Run("async keeps the first", func(t *testing.T) {
		a := trace.Async(failing{errA}, 2)
		a.Handle(e)
		if err := a.Close(); !errors.Is(err, errA) {
			t.Errorf("Close returned %v, want %v", err, errA)
		}
	})
}

type failing struct{ err error }

func (f failing) Handle(trace.Event) error { return f.err }

// The kinds of sink the table covers: a new one is added here and to the
// table, or this fails.
func TestSinkConformanceCoversEverySink(t *testing.T) {
	var names []string
	for _, tt := range conformanceSinks() {
		names = append(names, tt.name)
	}
	for _, want := range []string{"text", "columns", "json", "json explain (web's)", "mermaid", "recorder", "multi", "async"} {
		if !slices.Contains(names, want) {
			t.Errorf("the conformance table has no %q sink", want)
		}
	}
}
