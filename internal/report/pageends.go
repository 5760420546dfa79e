package report

import (
	"context"
	"strings"

	"github.com/socklab/socklab/trace/ptrace"
	"github.com/socklab/socklab/trace/web"
)

// PageEnds tells socklab web's page how each traced program ended (its
// exit status, or the signal that ended it: Stop's SIGINT, or socklab's
// kill), and which of its sockets the kernel closed when it ended: those
// have no close call to draw.
func PageEnds(ctx context.Context, exits []ptrace.Exit, open []ptrace.LeftOpen) {
	for _, x := range exits {
		name := SafeLine(strings.Join(x.Argv, " "))
		switch {
		case x.Signal != 0:
			key := "web.notice.signaled"
			if x.Killed {
				key = "web.notice.killed"
			}
			web.Notice(ctx, key, name, ptrace.SignalName(x.Signal))
		default:
			web.Notice(ctx, "web.notice.exited", name, x.Code)
		}
	}
	for _, o := range open {
		web.Notice(ctx, "web.notice.kernel_closed", o.Peer, o.FD)
	}
}
