package trace

import (
	"io"
	"testing"
)

// BenchmarkSink is the cost of one event in each sink, in steady state.
func BenchmarkSink(b *testing.B) {
	e := Event{Seq: 1, Peer: "server", Role: Server, Op: OpRead, Phase: End, Step: 10, Syscall: "read",
		FD: 5, Arg: "1024", Ret: 14, N: 14, Data: []byte("你好, server"), Local: "127.0.0.1:40000", Remote: "127.0.0.1:50000"}
	for _, tt := range []struct {
		name string
		sink Sink
	}{
		{"recorder", &freshRecorder{}},
		{"text", NewTextSink(io.Discard, nil)},
		{"json", NewJSONSink(io.Discard, nil)},
		{"discard", Discard},
	} {
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tt.sink.Handle(e)
			}
		})
	}
}

// BenchmarkAsync is what a traced call pays for its event with the sink
// behind trace.Async while the queue has room: the copy into the queue
// and, when the queue's goroutine was idle, waking it. The text sink behind
// it writes to io.Discard; the queue is emptied every 512 events with the
// timer stopped (a tight loop would otherwise fill it and measure the
// sink's own pace). The allocations reported are the text sink's, in the
// queue's goroutine while the timer runs: Handle itself makes none.
func BenchmarkAsync(b *testing.B) {
	e := Event{Seq: 1, Peer: "server", Role: Server, Op: OpRead, Phase: End, Step: 10, Syscall: "read",
		FD: 5, Arg: "1024", Ret: 14, N: 14, Data: []byte("你好, server"), Local: "127.0.0.1:40000", Remote: "127.0.0.1:50000"}
	a := Async(NewTextSink(io.Discard, nil), 1024)
	defer a.Close()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		a.Handle(e)
		if i++; i%512 == 0 {
			b.StopTimer()
			a.Flush()
			b.StartTimer()
		}
	}
}

// BenchmarkTracer is the tracer's own cost for one call: a Begin and an
// End through a sink that does nothing.
func BenchmarkTracer(b *testing.B) {
	p := New(Discard).Peer("server", Server)
	b.ReportAllocs()
	for b.Loop() {
		e := Event{Op: OpRead, FD: 5}
		p.End(&e, p.Begin(&e))
	}
}

// freshRecorder is a recorder replaced by a new one every 1<<16 events, so
// that a benchmark of millions of events measures recording in steady
// state (chunks filled and allocated as they come, the garbage collector
// scanning what is kept) without keeping gigabytes.
type freshRecorder struct {
	rec Recorder
	n   int
}

func (f *freshRecorder) Handle(e Event) error {
	if f.n++; f.n%(1<<16) == 0 {
		f.rec = Recorder{}
	}
	return f.rec.Handle(e)
}
