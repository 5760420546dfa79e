//go:build linux || darwin

package sock

import (
	"context"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/socklab/socklab/trace"
)

// The tracer's cost next to the syscall it traces. Run with
//
//	go test -run '^$' -bench . -count 10 ./trace/sock/ | tee new.txt
//	benchstat new.txt
//
// Each benchmark runs untraced (a nil tracer), with a recorder, and with
// the text sink writing to io.Discard; compare their times per op.

// pair returns two connected sockets on loopback, tracing through p.
func pair(b *testing.B, p *trace.Peer) (client, server *Socket) {
	b.Helper()
	ln, err := Create(p, false)
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	if err := ln.Bind(loopback0); err != nil {
		b.Fatal(err)
	}
	addr, _ := ln.LocalAddr()
	if err := ln.Listen(1); err != nil {
		b.Fatal(err)
	}
	client, err = Create(p, false)
	if err != nil {
		b.Fatal(err)
	}
	if err := client.Connect(context.Background(), addr); err != nil {
		b.Fatal(err)
	}
	server, err = ln.Accept(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// tracers are the three ways a benchmark runs.
func tracers() []struct {
	name string
	peer func() *trace.Peer
} {
	return []struct {
		name string
		peer func() *trace.Peer
	}{
		{"untraced", func() *trace.Peer { return nil }},
		{"recorder", func() *trace.Peer { return trace.New(&trace.Recorder{}).Peer("p", trace.Client) }},
		{"text", func() *trace.Peer { return trace.New(trace.NewTextSink(io.Discard, nil)).Peer("p", trace.Client) }},
	}
}

// BenchmarkPingPong: 64-byte round trips, write then read on each side.
func BenchmarkPingPong(b *testing.B) {
	for _, tt := range tracers() {
		b.Run(tt.name, func(b *testing.B) {
			c, s := pair(b, tt.peer())
			ctx := context.Background()
			msg, buf := make([]byte, 64), make([]byte, 64)
			for b.Loop() {
				c.Write(ctx, msg)
				s.Read(ctx, buf)
				s.Write(ctx, msg)
				c.Read(ctx, buf)
			}
		})
	}
}

// BenchmarkBulk: 1 MiB in 64 KiB writes, read as it comes.
func BenchmarkBulk(b *testing.B) {
	for _, tt := range tracers() {
		b.Run(tt.name, func(b *testing.B) {
			c, s := pair(b, tt.peer())
			ctx := context.Background()
			chunk, buf := make([]byte, 64<<10), make([]byte, 64<<10)
			b.SetBytes(1 << 20)
			for b.Loop() {
				done := make(chan struct{})
				go func() {
					for got := 0; got < 1<<20; {
						n, err := s.Read(ctx, buf)
						if err != nil || n == 0 {
							break
						}
						got += n
					}
					close(done)
				}()
				for sent := 0; sent < 1<<20; sent += len(chunk) {
					if _, err := c.Write(ctx, chunk); err != nil {
						b.Fatal(err)
					}
				}
				<-done
			}
		})
	}
}

// slowTerminal is a writer that takes a millisecond per write, like a
// terminal over a slow link (or one a person paused with Ctrl-S for a
// moment). While fast is set (the benchmark's timer is stopped), it takes
// no time, so that emptying the queue between rounds does not make the
// benchmark last minutes.
type slowTerminal struct{ fast atomic.Bool }

func (t *slowTerminal) Write(p []byte) (int, error) {
	if !t.fast.Load() {
		time.Sleep(time.Millisecond)
	}
	return len(p), nil
}

// BenchmarkSlowTerminal is what a slow terminal costs a traced call: a
// 64-byte write and the read of it, traced by the text sink writing to a
// terminal that takes 1 ms per line, directly (sync) or through
// trace.Async's queue (async). The queue is emptied every 64 operations
// (256 events, a lesson's worth) with the timer stopped: the benchmark
// measures how long the calls wait, not how long the terminal takes to
// show them (that stays 1 ms a line either way).
func BenchmarkSlowTerminal(b *testing.B) {
	for _, async := range []bool{false, true} {
		name := "sync"
		if async {
			name = "async"
		}
		b.Run(name, func(b *testing.B) {
			term := &slowTerminal{}
			var sink trace.Sink = trace.NewTextSink(term, nil)
			flush := func() {}
			if async {
				a := trace.Async(sink, 1024)
				b.Cleanup(func() { a.Close() })
				sink = a
				flush = func() {
					term.fast.Store(true)
					a.Flush()
					term.fast.Store(false)
				}
			}
			c, s := pair(b, trace.New(sink).Peer("p", trace.Client))
			flush()
			ctx := context.Background()
			msg, buf := make([]byte, 64), make([]byte, 64)
			i := 0
			for b.Loop() {
				c.Write(ctx, msg)
				s.Read(ctx, buf)
				if i++; i%64 == 0 {
					b.StopTimer()
					flush()
					b.StartTimer()
				}
			}
			b.StopTimer()
			flush()
		})
	}
}
