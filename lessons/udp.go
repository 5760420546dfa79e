package lessons

import (
	"context"
	"fmt"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/sock"
)

var udp = Lesson{
	Name:    "udp",
	Summary: summary("udp"),
	Run:     runUDP,
	Uses:    []string{"reply"},
}

// udpDatagrams are the client's two datagrams, sent back to back.
var udpDatagrams = []string{"hello", "world"}

// UDP has no connection: the server only binds an address, and anyone may
// send it datagrams. Each recvfrom returns one datagram, whole, with its
// sender's address: the client's two quick sends arrive as two reads (the
// stream lesson's two writes arrived as one).
func runUDP(ctx context.Context, tr *trace.Tracer, opts Options) error {
	if err := opts.check(); err != nil {
		return err
	}
	server, client := tr.Peer("server", trace.Server), tr.Peer("client", trace.Client)
	announce := newAnnouncement()
	sent := make(chan struct{}, 1) // the client sent both datagrams
	return runPeers(ctx, tr,
		func(ctx context.Context) error {
			defer server.Done()
			s, err := sock.CreateUDP(server, false)
			if err != nil {
				announce.failed()
				return err
			}
			defer s.Close()
			if err := s.Bind(loopback4); err != nil {
				announce.failed()
				return err
			}
			addr, err := s.LocalAddr()
			if err != nil {
				announce.failed()
				return err
			}
			announce.listening(addr) // no listen: a bound UDP socket already receives

			// Not a socket call: the server reads only once both
			// datagrams wait in its queue, as the stream lesson's server
			// read only once both writes were made. A TCP read would now
			// return both; recvfrom returns one datagram, whole.
			if err := waitFor(ctx, sent); err != nil {
				return err
			}
			buf := make([]byte, ReadBuffer)
			for _, want := range udpDatagrams {
				n, from, err := s.RecvFrom(ctx, buf)
				if err != nil {
					return err
				}
				if string(buf[:n]) != want {
					return fmt.Errorf("%w: datagram %q, want %q", errStoryDidNotHappen, buf[:n], want)
				}
				if want == udpDatagrams[len(udpDatagrams)-1] {
					// The reply goes to the address the datagram came from.
					if _, err := s.SendTo(ctx, []byte(opts.reply()), from); err != nil {
						return err
					}
				}
			}
			return s.Close()
		},
		func(ctx context.Context) error {
			defer client.Done()
			addr, err := announce.wait(ctx)
			if err != nil {
				return err
			}
			s, err := sock.CreateUDP(client, false)
			if err != nil {
				return err
			}
			defer s.Close()
			// No connect: each datagram names where it goes. The kernel
			// binds the client to an ephemeral port on the first send.
			for _, d := range udpDatagrams {
				if _, err := s.SendTo(ctx, []byte(d), addr); err != nil {
					return err
				}
			}
			sent <- struct{}{}
			if _, _, err := s.RecvFrom(ctx, make([]byte, ReadBuffer)); err != nil {
				return err
			}
			return s.Close()
		},
	)
}
