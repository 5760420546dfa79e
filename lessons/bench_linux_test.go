package lessons

import (
	"strconv"
	"testing"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/sock"
	"github.com/socklab/socklab/trace/tracetest"
)

// BenchmarkLessonKernelView runs the whole basic lesson with the kernel's
// view on, as the command has it, its view after close from sock_diag and
// from the table, with 20,000 more connections in TIME_WAIT on the machine
// and without: side by side in one run. The 20,000 are left in a network
// namespace of their own (tracetest.Netns; it needs root): the lesson's
// own namespace does not see them, but the kernel's hash table of
// connections is shared, and the table's read walks them. Each run leaves
// one more TIME_WAIT for a minute, so the runs are counted, not timed:
//
//	go test -run '^$' -bench LessonKernelView -benchtime 200x -count 6 ./lessons/ | benchstat -col /timewait -
func BenchmarkLessonKernelView(b *testing.B) {
	basic, ok := Lookup("basic")
	if !ok {
		b.Fatal("no basic lesson")
	}
	for _, entries := range []int{0, 20000} {
		b.Run("timewait="+strconv.Itoa(entries), func(b *testing.B) {
			if entries > 0 {
				ns, err := tracetest.NewNetns()
				if err != nil {
					b.Skipf("needs a network namespace of its own (CAP_SYS_ADMIN): %v", err)
				}
				defer ns.Close()
				if err := ns.Do(func() { _, _, err = tracetest.FillTimeWait(entries) }); err != nil {
					b.Fatal(err)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			for _, m := range []struct{ name, env string }{{"sock_diag", ""}, {"table", "table"}} {
				b.Run("method="+m.name, func(b *testing.B) {
					b.Setenv(sock.KernelViewEnv, m.env)
					for b.Loop() {
						if err := basic.Run(b.Context(), trace.New(&trace.Recorder{}).SetKernelState(true), Options{}); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
