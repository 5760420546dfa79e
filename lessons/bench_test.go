package lessons

import (
	"io"
	"testing"

	"github.com/socklab/socklab/trace"
)

// BenchmarkLesson runs the whole basic lesson, end to end: two peers, the
// 11 steps, about 50 events. Untraced (a nil tracer), with a recorder, with
// the text sink writing to io.Discard, and with that sink behind
// trace.Async, as the command has it. Run with
//
//	go test -run '^$' -bench Lesson -count 10 ./lessons/
//
// The command also records the kernel's view (SetKernelState), which is
// left out here: BenchmarkLessonKernelView measures it.
func BenchmarkLesson(b *testing.B) {
	basic, ok := Lookup("basic")
	if !ok {
		b.Fatal("no basic lesson")
	}
	async := trace.Async(trace.NewTextSink(io.Discard, nil), 1024)
	defer async.Close()
	for _, tt := range []struct {
		name string
		tr   *trace.Tracer
		done func() // after each run
	}{
		{"untraced", nil, func() {}},
		{"recorder", trace.New(&trace.Recorder{}), func() {}},
		{"text", trace.New(trace.NewTextSink(io.Discard, nil)), func() {}},
		// One queue for every run, as the command has one per process;
		// each run ends when its lines are out.
		{"async", trace.New(async), func() { async.Flush() }},
	} {
		b.Run(tt.name, func(b *testing.B) {
			for b.Loop() {
				if err := basic.Run(b.Context(), tt.tr, Options{}); err != nil {
					b.Fatal(err)
				}
				tt.done()
			}
		})
	}
}
