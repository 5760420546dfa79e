package sock

import (
	"context"
	"slices"
	"testing"

	"github.com/socklab/socklab/internal/kernelview"
	"github.com/socklab/socklab/trace"
)

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
				kernelview.SetDiagRefused(true)
				t.Cleanup(func() { kernelview.SetDiagRefused(false) })
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
