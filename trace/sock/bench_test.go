//go:build linux || darwin

package sock

import (
	"context"
	"io"
	"testing"

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
