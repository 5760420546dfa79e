package sock

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/socklab/socklab/trace"
)

// sock_diag and /proc/net/tcp are two windows on the same table: for an
// open connection and for one in TIME_WAIT, they say the same.
func TestDiagAgreesWithTable(t *testing.T) {
	for _, network := range []string{"tcp4", "tcp6"} {
		t.Run(network, func(t *testing.T) {
			host := "127.0.0.1:0"
			if network == "tcp6" {
				host = "[::1]:0"
			}
			ln, err := net.Listen(network, host)
			if err != nil {
				t.Skipf("no %s loopback: %v", network, err)
			}
			defer ln.Close()
			client, err := net.Dial(network, ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			server, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer server.Close()
			local := netip.MustParseAddrPort(client.LocalAddr().String())
			remote := netip.MustParseAddrPort(client.RemoteAddr().String())
			compare := func(want string) {
				t.Helper()
				own, other, found, ok := sysDiagConnection(local, remote)
				if !ok {
					t.Skip("sock_diag refused here")
				}
				rows, _ := sysOpenTCPTable(network == "tcp6").read()
				tOwn, tOther, tFound := lookup(rows, local.String(), remote.String())
				if !found || !tFound || own.state != want || tOwn.state != want || other.state != tOther.state {
					t.Errorf("sock_diag: %v %q, other end %q; table: %v %q, other end %q; want %q",
						found, own.state, other.state, tFound, tOwn.state, tOther.state, want)
				}
				if d := own.timer - tOwn.timer; d > time.Second || d < -time.Second {
					t.Errorf("timers differ: sock_diag %v, table %v", own.timer, tOwn.timer)
				}
			}
			compare("ESTABLISHED")
			client.Close()
			buf := make([]byte, 1)
			server.Read(buf) // end of file: the client's FIN is in
			server.Close()
			deadline := time.Now().Add(5 * time.Second)
			for {
				if own, _, _, _ := sysDiagConnection(local, remote); own.state == "TIME_WAIT" || time.Now().After(deadline) {
					break
				}
				time.Sleep(time.Millisecond)
			}
			compare("TIME_WAIT")
			// A 4-tuple nobody has is gone, and sock_diag says so.
			if _, _, found, ok := sysDiagConnection(netip.MustParseAddrPort("127.0.0.1:1"), netip.MustParseAddrPort("127.0.0.1:2")); !ok || found {
				t.Errorf("a connection nobody has: found %v, ok %v", found, ok)
			}
		})
	}
}

// The view after close, traced, comes from sock_diag, or from the table
// when KernelViewEnv asks (as where sock_diag is refused), and says which;
// both tell the same states: the client, which closed first, finishing
// (FIN_WAIT…, TIME_WAIT), the server's end in CLOSE_WAIT until it closes.
func TestViewAfterCloseBothWays(t *testing.T) {
	for _, tt := range []struct {
		name, env, from string
		refused         bool // as after the system refused a netlink socket
	}{
		{"sock_diag", "", FromSockDiag, false},
		{"table", "table", FromTable, false},
		{"refused", "", FromTable, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(KernelViewEnv, tt.env)
			if tt.refused {
				diagRefused.Store(true)
				t.Cleanup(func() { diagRefused.Store(false) })
			}
			var rec trace.Recorder
			tr := trace.New(&rec).SetKernelState(true)
			ln, addr := listening(t, tr.Peer("server", trace.Server))
			ctx := context.Background()
			c, err := Create(tr.Peer("client", trace.Client), false)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Connect(ctx, addr); err != nil {
				c.Close()
				t.Fatal(err)
			}
			// As the lessons' clients do: the socket knows its address
			// from a traced getsockname, and the view looks it up by it.
			if _, err := c.LocalAddr(); err != nil {
				c.Close()
				t.Fatal(err)
			}
			conn, err := ln.Accept(ctx)
			if err != nil {
				c.Close()
				t.Fatal(err)
			}
			c.Close()
			buf := make([]byte, 1)
			if n, err := conn.Read(ctx, buf); n != 0 || err != nil {
				t.Fatalf("read after the client's close: %d, %v; want end of file", n, err)
			}
			conn.Close()
			events := rec.Events()
			client, _ := trace.Find(events, trace.EndOf("client", trace.OpClose))
			server, _ := trace.Find(events, trace.EndOf("server", trace.OpClose))
			if client.Kernel.From != tt.from || server.Kernel.From != tt.from {
				t.Errorf("the views came from %q and %q, want %q", client.Kernel.From, server.Kernel.From, tt.from)
			}
			finishing := []string{"FIN_WAIT1", "FIN_WAIT2", "CLOSING", "TIME_WAIT"}
			if !slices.Contains(finishing, client.Kernel.State) || client.Kernel.PeerState != "CLOSE_WAIT" {
				t.Errorf("after the client's close: %q, other end %q; want one of %q, other end CLOSE_WAIT", client.Kernel.State, client.Kernel.PeerState, finishing)
			}
			if !slices.Contains([]string{"CLOSED", "LAST_ACK"}, server.Kernel.State) || !slices.Contains(finishing, server.Kernel.PeerState) {
				t.Errorf("after the server's close: %q, other end %q", server.Kernel.State, server.Kernel.PeerState)
			}
			read, _ := trace.Find(events, trace.EndOf("server", trace.OpRead).AtEOF())
			if read.Kernel.State != "CLOSE_WAIT" || read.Kernel.From != FromTCPInfo {
				t.Errorf("the end-of-file read: %q from %q, want CLOSE_WAIT from TCP_INFO", read.Kernel.State, read.Kernel.From)
			}
		})
	}
}
