package wire_test

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"testing"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/sock"
	"github.com/socklab/socklab/trace/wire"
)

// The wire view's cost, side by side with the same calls traced without
// it (the text sink writing to io.Discard in both). Run as root with
//
//	go test -run '^$' -bench Wire -count 10 ./trace/wire/ | tee wire.txt
//	benchstat -col /wire wire.txt
func BenchmarkWire(b *testing.B) {
	for _, bench := range []struct {
		name string
		run  func(b *testing.B, tr *trace.Tracer)
	}{
		{"pingpong", pingPong},
		{"connection", connections},
	} {
		for _, withWire := range []bool{false, true} {
			name := bench.name + "/wire=off"
			if withWire {
				name = bench.name + "/wire=on"
			}
			b.Run(name, func(b *testing.B) {
				tr := trace.New(trace.NewTextSink(io.Discard, nil))
				if withWire {
					capture, err := wire.Open(tr)
					if errors.Is(err, wire.ErrNotPermitted) {
						b.Skip("capturing needs CAP_NET_RAW: run as root")
					}
					if err != nil {
						b.Fatal(err)
					}
					defer func() {
						sum, err := capture.Close()
						if err != nil || sum.Dropped > 0 {
							b.Errorf("%v: %+v", err, sum)
						}
					}()
				}
				bench.run(b, tr)
			})
		}
	}
}

// listener is a server's socket listening on loopback, and its address.
func listener(b *testing.B, p *trace.Peer) (*sock.Socket, netip.AddrPort) {
	b.Helper()
	ln, err := sock.Create(p, false)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	if err := ln.Bind(netip.MustParseAddrPort("127.0.0.1:0")); err != nil {
		b.Fatal(err)
	}
	addr, err := ln.LocalAddr()
	if err != nil {
		b.Fatal(err)
	}
	if err := ln.Listen(128); err != nil {
		b.Fatal(err)
	}
	return ln, addr
}

// connect makes one connection, the client's end and the server's.
func connect(b *testing.B, ln *sock.Socket, addr netip.AddrPort, client *trace.Peer) (c, s *sock.Socket) {
	ctx := context.Background()
	c, err := sock.Create(client, false)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Connect(ctx, addr); err != nil {
		b.Fatal(err)
	}
	s, err = ln.Accept(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return c, s
}

// pingPong: 64-byte round trips on one connection, two segments and
// their ACKs (or none, delayed) each.
func pingPong(b *testing.B, tr *trace.Tracer) {
	ln, addr := listener(b, tr.Peer("server", trace.Server))
	c, s := connect(b, ln, addr, tr.Peer("client", trace.Client))
	defer c.Close()
	defer s.Close()
	ctx := context.Background()
	msg, buf := make([]byte, 64), make([]byte, 64)
	for b.Loop() {
		c.Write(ctx, msg)
		s.Read(ctx, buf)
		s.Write(ctx, msg)
		c.Read(ctx, buf)
	}
}

// connections: one connection made and closed per op, about seven
// packets; -benchtime=2000x is the 2,000-connection loop.
func connections(b *testing.B, tr *trace.Tracer) {
	ln, addr := listener(b, tr.Peer("server", trace.Server))
	client := tr.Peer("client", trace.Client)
	for b.Loop() {
		c, s := connect(b, ln, addr, client)
		c.Close()
		s.Close()
	}
}
