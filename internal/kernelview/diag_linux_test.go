package kernelview

import (
	"net"
	"net/netip"
	"testing"
	"time"
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
