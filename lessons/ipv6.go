package lessons

import (
	"context"

	"github.com/socklab/socklab/trace"
)

var ipv6 = Lesson{
	Name:    "ipv6",
	Summary: summary("ipv6"),
	Run:     runIPv6,
	Uses:    []string{"message", "reply"},
	Script:  elevenSteps,
	Expect:  elevenStepsExpected,
}

// IPv6 changes the address family and the addresses, nothing else: the
// same server and client as basic, on [::1].
func runIPv6(ctx context.Context, tr *trace.Tracer, opts Options) error {
	return serverAndClient(ctx, tr, opts, loopback6)
}
