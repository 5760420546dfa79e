package lessons

import (
	"slices"
	"testing"
	"time"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/sock"
)

// closedFirst are the states of the side that closed first, at any moment
// after its close: its FIN sent (FIN_WAIT1), acknowledged (FIN_WAIT2), the
// other's FIN met before that acknowledgement (CLOSING), or both done
// (TIME_WAIT). Which one a moment shows depends on when the kernel's
// softirq took the other side's packets (a delayed ACK can hold FIN_WAIT1
// for tens of milliseconds, up to 200), which no order of calls guarantees; only that it is
// one of these, never CLOSE_WAIT or LAST_ACK, is certain.
var closedFirst = []string{"FIN_WAIT1", "FIN_WAIT2", "CLOSING", "TIME_WAIT"}

// timeWaitBound is how long the tests give the kernel to bring the side
// that closed first to TIME_WAIT once both have closed: a loopback round
// trip and a delayed ACK take milliseconds.
const timeWaitBound = 2 * time.Second

// awaitTimeWait checks that the connection of e, a close that came first,
// reaches TIME_WAIT once both sides have closed, and skips the test when
// the kernel kept no TIME_WAIT at all (its table of them is full, as on a
// machine that closed tens of thousands of connections in the last minute:
// TCPTimeWaitOverflow).
func awaitTimeWait(t *testing.T, what string, e trace.Event) {
	t.Helper()
	if sock.AwaitTableState(t.Context(), e.Local, e.Remote, false, "TIME_WAIT", timeWaitBound) {
		return
	}
	state, found := sock.TableState(e.Local, e.Remote, false)
	if !found {
		t.Skipf("%s: the kernel kept no TIME_WAIT for %s (its TIME_WAIT table is full)", what, e.Local)
	}
	t.Errorf("%s: %s is in %s %v after both closed, want TIME_WAIT", what, e.Local, state, timeWaitBound)
}

// eachKernelView runs check twice: with the kernel's view after close
// from sock_diag, and from the table /proc/net/tcp, forced as a system
// that refuses sock_diag would have it (sock.KernelViewEnv). Each closed
// connection's view must say where it came from.
func eachKernelView(t *testing.T, check func(t *testing.T, run func(*trace.Recorder) []trace.Event)) {
	for _, tt := range []struct{ name, env, from string }{{"sock_diag", "", sock.FromSockDiag}, {"table", "table", sock.FromTable}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(sock.KernelViewEnv, tt.env)
			check(t, func(rec *trace.Recorder) []trace.Event {
				events := rec.Events()
				for _, e := range events {
					// An open socket answers for itself (TCP_INFO), unless it
					// says CLOSED: then, as after close, the connection is
					// looked up.
					if e.Kernel.State == "" || e.Kernel.From == tt.from || e.Kernel.From == sock.FromTCPInfo && e.Op != trace.OpClose {
						continue
					}
					t.Errorf("%s %s %s: the kernel's view %q came from %q, want %q", e.Peer, e.Op, e.Phase, e.Kernel.State, e.Kernel.From, tt.from)
				}
				return events
			})
		})
	}
}

// TestBasicKernelStates checks the kernel's view at each step, on Linux,
// for the states that are certain; right after close, the closing side may
// still be in any of FIN_WAIT1, FIN_WAIT2 or TIME_WAIT.
func TestBasicKernelStates(t *testing.T) {
	eachKernelView(t, testBasicKernelStates)
}

func testBasicKernelStates(t *testing.T, recorded func(*trace.Recorder) []trace.Event) {
	l, _ := Lookup("basic")
	var rec trace.Recorder
	if err := l.Run(t.Context(), trace.New(&rec).SetKernelState(true), Options{}); err != nil {
		t.Fatal(err)
	}
	events := recorded(&rec)
	tests := []struct {
		point trace.Point
		want  []string
	}{
		{trace.EndOf("server", trace.OpListen), []string{"LISTEN"}},
		{trace.EndOf("client", trace.OpConnect), []string{"ESTABLISHED"}},
		{trace.EndOf("server", trace.OpAccept), []string{"ESTABLISHED"}},
		{trace.EndOf("server", trace.OpRead), []string{"ESTABLISHED"}},
		{trace.EndOf("server", trace.OpRead).AtEOF(), []string{"CLOSE_WAIT"}},
		{trace.EndOf("client", trace.OpClose), append([]string{"CLOSED"}, closedFirst...)}, // CLOSED: no TIME_WAIT kept, see awaitTimeWait
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
		if !slices.Contains(tt.want, e.Kernel.State) {
			t.Errorf("%v: state %q, want one of %q", tt.point, e.Kernel.State, tt.want)
		}
	}
	// Right after the server's close, the client's kernel may not have
	// taken the server's FIN yet; once it has, TIME_WAIT, with its minute
	// to go.
	last, _ := trace.Find(events, trace.EndOf("server", trace.OpClose))
	if client, _ := trace.Find(events, trace.EndOf("client", trace.OpClose)); client.Kernel.State == "CLOSED" {
		t.Skipf("the kernel kept no TIME_WAIT for %s (its TIME_WAIT table is full)", client.Local)
	}
	if !slices.Contains(closedFirst, last.Kernel.PeerState) {
		t.Errorf("after the server's close, the client's socket is in %q; want one of %q", last.Kernel.PeerState, closedFirst)
	}
	if last.Kernel.PeerState == "TIME_WAIT" && last.Kernel.PeerTimer <= 0 {
		t.Errorf("TIME_WAIT with no time left")
	}
	client, _ := trace.Find(events, trace.EndOf("client", trace.OpClose))
	awaitTimeWait(t, "the client, which closed first", client)
}

// TestTimewaitFallsOnWhoClosesFirst: in each round, the side that closed
// first is the one in TIME_WAIT once the other side has closed too.
func TestTimewaitFallsOnWhoClosesFirst(t *testing.T) {
	eachKernelView(t, testTimewaitFallsOnWhoClosesFirst)
}

func testTimewaitFallsOnWhoClosesFirst(t *testing.T, recorded func(*trace.Recorder) []trace.Event) {
	l, _ := Lookup("timewait")
	var rec trace.Recorder
	if err := l.Run(t.Context(), trace.New(&rec).SetKernelState(true), Options{}); err != nil {
		t.Fatal(err)
	}
	events := recorded(&rec)
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
		if first.Kernel.State == "CLOSED" {
			// The side that closes first goes through TIME_WAIT unless
			// the kernel keeps none: its table of them is full, as on a
			// machine that closed tens of thousands of connections in
			// the last minute (TCPTimeWaitOverflow).
			t.Skipf("%s: the kernel kept no TIME_WAIT for %s (its TIME_WAIT table is full)", tt.round, first.Local)
		}
		if !slices.Contains(closedFirst, first.Kernel.State) {
			t.Errorf("%s: the first to close is in %q right after, want one of %q", tt.round, first.Kernel.State, closedFirst)
		}
		// Its kernel may not have taken the other side's FIN yet (it
		// does so in a softirq, perhaps on another CPU, and may delay its
		// ACK): any state of closedFirst, then, once it has, TIME_WAIT.
		if !slices.Contains(closedFirst, last.Kernel.PeerState) {
			t.Errorf("%s: after the other side closed, the first is in %q, want one of %q", tt.round, last.Kernel.PeerState, closedFirst)
		}
		// And the other side, which closed second, never waits there.
		if last.Kernel.State == "TIME_WAIT" {
			t.Errorf("%s: the side that closed second is in TIME_WAIT", tt.round)
		}
		awaitTimeWait(t, tt.round, first)
	}
}
