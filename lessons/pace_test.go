package lessons

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/sock"
	"github.com/socklab/socklab/trace/tracetest"
)

// story is what a run did, peer by peer, without what changes from run to
// run (descriptors, ports, times): each call's op, result, errno, bytes
// and why it was woken, in the peer's order.
func story(events []trace.Event) map[string][]string {
	s := map[string][]string{}
	for _, e := range events {
		if e.Phase != trace.End {
			continue
		}
		line := fmt.Sprintf("%s %s", e.Op, e.Errno)
		if e.Op == trace.OpRead || e.Op == trace.OpWrite {
			line += fmt.Sprintf(" %d %q", e.Ret, e.Data)
		}
		if e.Interrupt != "" {
			line += " woken: " + e.Interrupt
		}
		s[e.Peer] = append(s[e.Peer], line)
	}
	return s
}

// TestPausesChangeNothing plays every scripted lesson with a pause before
// each step, of 0 s up to a minute, on a fake clock: the pauses pass at
// once, and if any bound counted them (the 10 s connect, the 30 s read,
// the 2 s close-wait), it would fire and change the story. The story must
// be the unpaused run's, call for call.
func TestPausesChangeNothing(t *testing.T) {
	for _, l := range All() {
		if l.Script == nil {
			continue
		}
		want := story(runLesson(t, l.Name, Options{}))
		for _, pause := range []time.Duration{0, time.Second, 3 * time.Second, time.Minute} {
			t.Run(fmt.Sprintf("%s/%v", l.Name, pause), func(t *testing.T) {
				clock := new(tracetest.Clock)
				var rec trace.Recorder
				pace := func(context.Context, *trace.Event) error {
					clock.Advance(pause)
					return nil
				}
				tr := trace.New(&rec).SetGate(trace.NewConductor(t.Context(), l.Script, pace)).SetClock(clock)
				if err := l.Run(t.Context(), tr, Options{}); err != nil {
					t.Fatalf("with a %v pause before each step: %v", pause, err)
				}
				got := story(rec.Events())
				for peer := range want {
					if !slices.Equal(got[peer], want[peer]) {
						t.Errorf("%s, with a %v pause before each step:\ngot  %q\nwant %q", peer, pause, got[peer], want[peer])
					}
				}
			})
		}
	}
}

// TestBoundsStillBoundMachines: the fake clock advanced while no one holds
// the run does fire the bounds. Without this, TestPausesChangeNothing
// could pass with bounds that never run on the stopwatch at all.
func TestBoundsStillBoundMachines(t *testing.T) {
	clock := new(tracetest.Clock)
	tr := trace.New(nil).SetClock(clock)
	p := tr.Peer("client", trace.Client)
	ctx, cancel := p.Within(t.Context(), DefaultConnectTimeout, ErrConnectTimeout)
	defer cancel()
	clock.Advance(DefaultConnectTimeout)
	if !errors.Is(context.Cause(ctx), ErrConnectTimeout) {
		t.Fatalf("after %v unheld, cause %v, want %v", DefaultConnectTimeout, context.Cause(ctx), ErrConnectTimeout)
	}
}

// A changed lesson: the exercises of the lesson pages, and the classic
// deadlock, played with basic's script or without a conductor.
var changedLessons = []struct {
	name   string
	server func(ctx context.Context, conn *sock.Socket) error
	client func(ctx context.Context, s *sock.Socket) error
	// what the conductor says, and what the run says without one ("" when
	// the changed lesson still finishes then).
	stepped, unpaced string
	// unpacedAnyway: without a conductor, the run may finish or fail with
	// what the kernel did (a reset), as long as it does not hang.
	unpacedAnyway bool
}{
	{
		name: "the server closes before reading end of file",
		server: func(ctx context.Context, conn *sock.Socket) error {
			return readReplyClose(ctx, conn, false)
		},
		client:  writeReadClose,
		stepped: "the script expects the server to read; the server called close",
	},
	{
		name:   "the client closes without reading",
		server: func(ctx context.Context, conn *sock.Socket) error { return readReplyClose(ctx, conn, true) },
		client: func(ctx context.Context, s *sock.Socket) error {
			if err := writeAll(ctx, s, []byte(DefaultMessage)); err != nil {
				return err
			}
			return s.Close()
		},
		stepped: "the script expects the client to read; the client called close",
		// Closing with the reply unread resets the connection (the server's
		// read then fails with ECONNRESET), unless the reply came after the
		// close.
		unpacedAnyway: true,
	},
	{
		name:   "the client reads before it writes",
		server: func(ctx context.Context, conn *sock.Socket) error { return readReplyClose(ctx, conn, true) },
		client: func(ctx context.Context, s *sock.Socket) error {
			if _, err := s.Read(ctx, make([]byte, ReadBuffer)); err != nil {
				return err
			}
			if err := writeAll(ctx, s, []byte(DefaultMessage)); err != nil {
				return err
			}
			return s.Close()
		},
		stepped: "the script expects the client to write; the client called read",
		unpaced: "both peers are reading: each waits for the other to write",
	},
}

// readReplyClose is basic's server on an accepted connection: read, reply,
// read until end of file if drain, close.
func readReplyClose(ctx context.Context, conn *sock.Socket, drain bool) error {
	buf := make([]byte, ReadBuffer)
	if _, err := conn.Read(ctx, buf); err != nil {
		return err
	}
	if err := writeAll(ctx, conn, []byte(DefaultReply)); err != nil {
		return err
	}
	if drain {
		if _, err := readUntilEOF(ctx, conn, buf); err != nil {
			return err
		}
	}
	return conn.Close()
}

// writeReadClose is basic's client after connect.
func writeReadClose(ctx context.Context, s *sock.Socket) error {
	if err := writeAll(ctx, s, []byte(DefaultMessage)); err != nil {
		return err
	}
	if _, err := s.Read(ctx, make([]byte, ReadBuffer)); err != nil {
		return err
	}
	return s.Close()
}

// testStallAfter is the stall watch's time in the tests of stuck runs:
// shorter than a second, so that the suite, run hundreds of times, stays
// quick. Those runs are stuck for good, so a short watch cannot be wrong.
const testStallAfter = 50 * time.Millisecond

// TestChangedLessonsFailFast: a lesson changed so that its peers leave the
// script, or wait for each other, fails in about a second with a sentence
// that names what happened, never by a timeout, and closes every socket.
func TestChangedLessonsFailFast(t *testing.T) {
	basic, _ := Lookup("basic")
	for _, tt := range changedLessons {
		for _, stepped := range []bool{true, false} {
			want := tt.unpaced
			name := tt.name + "/unpaced"
			if stepped {
				want, name = tt.stepped, tt.name+"/stepped"
			}
			t.Run(name, func(t *testing.T) {
				var rec trace.Recorder
				tr := trace.New(&rec).SetStallAfter(testStallAfter)
				if stepped {
					tr.SetGate(trace.NewConductor(t.Context(), basic.Script, func(context.Context, *trace.Event) error { return nil }))
				}
				before := openFDs(t)
				start := time.Now()
				err := oneConnection(t.Context(), tr, tt.server, tt.client)
				took := time.Since(start)
				switch {
				case !stepped && tt.unpacedAnyway:
				case want == "" && err != nil:
					t.Fatalf("got %v, want the changed lesson to finish", err)
				case want != "" && (err == nil || err.Error() != want):
					t.Fatalf("got %v, want %q", err, want)
				}
				if limit := testStallAfter + 3*time.Second; took > limit {
					t.Errorf("took %v, more than %v", took, limit)
				}
				checkClosedAll(t, rec.Events())
				if leaked := before.Leaked(openFDs(t)); leaked != nil {
					t.Errorf("descriptors left open: %v", leaked)
				}
			})
		}
	}
}

// TestStallIsNamedInTheTrace: the calls the stall watch wakes say why.
// Both reads wait; the watch shuts both sockets down. A read woken by its
// own socket's shutdown says "stall"; the other's may return first, with
// 0, because the first shutdown sent it a FIN: a real end of file, which
// the trace shows as one, after that shutdown.
func TestStallIsNamedInTheTrace(t *testing.T) {
	var rec trace.Recorder
	tt := changedLessons[2] // the client reads before it writes
	err := oneConnection(t.Context(), trace.New(&rec).SetStallAfter(testStallAfter), tt.server, tt.client)
	var stall *trace.StallError
	if !errors.As(err, &stall) {
		t.Fatalf("got %v, want a stall", err)
	}
	events := rec.Events()
	woken := 0
	for _, peer := range []string{"server", "client"} {
		other := map[string]string{"server": "client", "client": "server"}[peer]
		e, ok := trace.Find(events, trace.EndOf(peer, trace.OpRead))
		switch {
		case !ok:
			t.Errorf("the %s's read never ended", peer)
		case e.Interrupt == "stall":
			woken++
		case e.EOF():
			shut, ok := trace.Find(events, trace.BeginOf(other, trace.OpShutdown))
			if !ok || shut.Seq > e.Seq {
				t.Errorf("the %s's read returned 0 before any shutdown of the %s's socket", peer, other)
			}
		default:
			t.Errorf("the %s's read ended %+v, want woken by the stall or the other's shutdown", peer, e)
		}
	}
	if woken == 0 {
		t.Error("no read says the stall woke it")
	}
}

// TestStalledSteppedRunClosesAtOnce: under --step, a run that stalls
// closes its sockets without a prompt for each close, and says the stall,
// not a divergence its teardown might look like.
func TestStalledSteppedRunClosesAtOnce(t *testing.T) {
	basic, _ := Lookup("basic")
	var rec trace.Recorder
	var paced []trace.Op
	tr := trace.New(&rec).SetStallAfter(testStallAfter)
	tr.SetGate(trace.NewConductor(t.Context(), basic.Script, func(_ context.Context, e *trace.Event) error {
		paced = append(paced, e.Op) // one at a time: no lock needed
		return nil
	}))
	err := oneConnection(t.Context(), tr,
		func(ctx context.Context, conn *sock.Socket) error { return readReplyClose(ctx, conn, true) },
		func(ctx context.Context, s *sock.Socket) error {
			if err := writeAll(ctx, s, []byte(DefaultMessage)); err != nil {
				return err
			}
			buf := make([]byte, ReadBuffer)
			if _, err := s.Read(ctx, buf); err != nil {
				return err
			}
			_, err := s.Read(ctx, buf) // a second read, where the lesson closes: both peers read
			return err
		})
	var stall *trace.StallError
	if !errors.As(err, &stall) {
		t.Fatalf("got %v, want a stall", err)
	}
	if slices.Contains(paced, trace.OpClose) {
		t.Errorf("paced %q: a close waited for a prompt after the stall", paced)
	}
	checkClosedAll(t, rec.Events())
}

// TestMoreWaitEndsBeforeTheStallWatch: the client's wait for more of a
// full reply, while the server waits in read for its close, must end by
// itself before the stall watch would call the run stuck.
func TestMoreWaitEndsBeforeTheStallWatch(t *testing.T) {
	if moreWait > trace.StallAfter {
		t.Errorf("moreWait %v is longer than trace.StallAfter %v: a reply that fills the buffer would look like a stall", moreWait, trace.StallAfter)
	}
}
