package lessons

import (
	"slices"
	"testing"

	"github.com/socklab/socklab/trace"
)

// TestBasicKernelStates checks the kernel's view at each step, on Linux,
// for the states that are certain; right after close, the closing side may
// still be in any of FIN_WAIT1, FIN_WAIT2 or TIME_WAIT.
func TestBasicKernelStates(t *testing.T) {
	l, _ := Lookup("basic")
	var rec trace.Recorder
	if err := l.Run(t.Context(), trace.New(&rec).SetKernelState(true), Options{}); err != nil {
		t.Fatal(err)
	}
	events := rec.Events()
	tests := []struct {
		point trace.Point
		want  []string
	}{
		{trace.EndOf("server", trace.OpListen), []string{"LISTEN"}},
		{trace.EndOf("client", trace.OpConnect), []string{"ESTABLISHED"}},
		{trace.EndOf("server", trace.OpAccept), []string{"ESTABLISHED"}},
		{trace.EndOf("server", trace.OpRead), []string{"ESTABLISHED"}},
		{trace.EndOf("server", trace.OpRead).AtEOF(), []string{"CLOSE_WAIT"}},
		{trace.EndOf("client", trace.OpClose), []string{"FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT"}},
		// The server closes last: its socket is gone or finishing, and the
		// client's, which closed first, holds the connection in TIME_WAIT.
		{trace.EndOf("server", trace.OpClose), []string{"CLOSED", "LAST_ACK"}},
	}
	for _, tt := range tests {
		e, ok := trace.Find(events, tt.point)
		if !ok {
			t.Errorf("%v never happened", tt.point)
			continue
		}
		if !slices.Contains(tt.want, e.State) {
			t.Errorf("%v: state %q, want one of %q", tt.point, e.State, tt.want)
		}
	}
	// Right after the server's close, the client's kernel may not have
	// taken the server's FIN yet: FIN_WAIT2 for a moment, then TIME_WAIT
	// with its minute to go.
	last, _ := trace.Find(events, trace.EndOf("server", trace.OpClose))
	switch last.PeerState {
	case "TIME_WAIT":
		if last.PeerStateTimer <= 0 {
			t.Errorf("TIME_WAIT with no time left")
		}
	case "FIN_WAIT2":
	default:
		t.Errorf("after the server's close, the client's socket is in %q; want FIN_WAIT2 or TIME_WAIT", last.PeerState)
	}
}

// TestTimewaitFallsOnWhoClosesFirst: in each round, the side that closed
// first is the one in TIME_WAIT once the other side has closed too.
func TestTimewaitFallsOnWhoClosesFirst(t *testing.T) {
	l, _ := Lookup("timewait")
	var rec trace.Recorder
	if err := l.Run(t.Context(), trace.New(&rec).SetKernelState(true), Options{}); err != nil {
		t.Fatal(err)
	}
	events := rec.Events()
	tests := []struct {
		round       string
		first, last trace.Point // who closed first, and the close after it
	}{
		{"client closes first", trace.EndOf("client-1", trace.OpClose), trace.EndOf("server", trace.OpClose)},
		{"server closes first", trace.EndOf("server", trace.OpClose).Nth(2), trace.EndOf("client-2", trace.OpClose)},
	}
	for _, tt := range tests {
		first, ok1 := trace.Find(events, tt.first)
		last, ok2 := trace.Find(events, tt.last)
		if !ok1 || !ok2 {
			t.Fatalf("%s: the closes did not happen", tt.round)
		}
		if !slices.Contains([]string{"FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT"}, first.State) {
			t.Errorf("%s: the first to close is in %q right after", tt.round, first.State)
		}
		// Its kernel may not have taken the other side's FIN yet (it
		// does so in a softirq, perhaps on another CPU): FIN_WAIT2 for a
		// moment, then TIME_WAIT. Both are certain to mean "closed first".
		if !slices.Contains([]string{"FIN_WAIT2", "TIME_WAIT"}, last.PeerState) {
			t.Errorf("%s: after the other side closed, the first is in %q, want FIN_WAIT2 or TIME_WAIT", tt.round, last.PeerState)
		}
	}
}
