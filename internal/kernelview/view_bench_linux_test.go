package kernelview

import (
	"net/netip"
	"strconv"
	"testing"

	"github.com/socklab/socklab/trace/tracetest"
)

// BenchmarkKernelView is the kernel's view of one closed connection (in
// TIME_WAIT), asked with sock_diag and read from the table, with no other
// connection in TIME_WAIT in its network namespace and with 20,000: side
// by side in one run. Each table size gets a namespace of its own
// (tracetest.Netns; it needs root, as in CI). Run with
//
//	go test -run '^$' -bench KernelView -count 6 ./internal/kernelview/ | benchstat -col /method -
func BenchmarkKernelView(b *testing.B) {
	for _, entries := range []int{0, 20000} {
		b.Run("timewait="+strconv.Itoa(entries), func(b *testing.B) {
			ns, err := tracetest.NewNetns()
			if err != nil {
				b.Skipf("needs a network namespace of its own (CAP_SYS_ADMIN): %v", err)
			}
			defer ns.Close()
			var local, remote netip.AddrPort
			if err := ns.Do(func() { local, remote, err = tracetest.FillTimeWait(entries) }); err != nil {
				b.Fatal(err)
			}
			if err != nil {
				b.Fatal(err)
			}
			for _, m := range []struct{ name, env string }{{"sock_diag", ""}, {"table", "table"}} {
				b.Run("method="+m.name, func(b *testing.B) {
					b.Setenv(Env, m.env)
					ns.Do(func() {
						for b.Loop() {
							own, _, found, _, ok := closedView(local.String(), remote.String(), false, nil)
							if !ok || !found || own.state != "TIME_WAIT" {
								b.Fatalf("the view of %v: %q, found %v, ok %v; want TIME_WAIT", local, own.state, found, ok)
							}
						}
					})
				})
			}
		})
	}
}
