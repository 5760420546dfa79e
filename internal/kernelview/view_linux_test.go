package kernelview

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseProcNetTCP(t *testing.T) {
	table := []byte(`  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 132982 1 000000001e2aadff 100 0 0 10 0
   2: 0100007F:A886 0100007F:947D 06 00000000:00000000 03:00000094 00000000     0        0 0 3 00000000e5f46d92
 602: 0100007F:B429 0100007F:B50E 08 00000000:00000000 00:00000000 00000000     0        0 211386 1 0000000059800343 20 4 0 10 -1
`)
	got := parseProcNetTCP(table)
	want := []tableEntry{
		{netip.MustParseAddrPort("127.0.0.1:80"), netip.MustParseAddrPort("0.0.0.0:0"), "LISTEN", 0},
		{netip.MustParseAddrPort("127.0.0.1:43142"), netip.MustParseAddrPort("127.0.0.1:38013"), "TIME_WAIT", 1480 * time.Millisecond},
		{netip.MustParseAddrPort("127.0.0.1:46121"), netip.MustParseAddrPort("127.0.0.1:46350"), "CLOSE_WAIT", 0},
	}
	require.Equal(t, want, got)
}
