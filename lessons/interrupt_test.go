package lessons

import (
	"context"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"github.com/socklab/socklab/trace"
)

// cancelAt is a sink that ends the run's context when the at-th event is
// handed to it: Ctrl-C at that moment of the lesson.
type cancelAt struct {
	seen   atomic.Int64
	at     int64
	cancel context.CancelCauseFunc
}

var errBell = reasonError{"SIGINT", "the bell rang"}

func (c *cancelAt) Handle(trace.Event) error {
	if c.seen.Add(1) == c.at {
		c.cancel(errBell)
	}
	return nil
}

// interruptRuns counts the lessons TestEveryLessonInterruptedAnywhere
// played in this process. Its first run cuts every lesson at every moment;
// later ones (go test -count=200) at one moment in interruptRotation, a
// different one each run, so that each moment is still cut dozens of times
// under the race detector while the suite stays within its time.
var interruptRuns atomic.Int64

const interruptRotation = 3

// TestEveryLessonInterruptedAnywhere interrupts every lesson at many
// moments of its run, from its first call to its last: each run must
// return (nothing hangs), close every descriptor it opened, with its close
// traced, and leave no goroutine behind.
func TestEveryLessonInterruptedAnywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every lesson many times")
	}
	for _, l := range All() {
		t.Run(l.Name, func(t *testing.T) {
			var full trace.Recorder
			if err := l.Run(t.Context(), trace.New(&full), Options{}); err != nil {
				skipIfNoTimeWait(t, err)
				t.Fatal(err)
			}
			total := int64(len(full.Events()))
			// Fibonacci steps: every early moment, fewer later ones, and
			// the very last event.
			moments := []int64{}
			for a, b := int64(1), int64(2); a < total; a, b = b, a+b {
				moments = append(moments, a)
			}
			moments = append(moments, total)
			run := interruptRuns.Add(1) - 1
			for i, at := range moments {
				if round := run / int64(len(All())); round > 0 && int64(i)%interruptRotation != round%interruptRotation {
					continue // cut at this moment in another run of this process
				}
				ctx, cancel := context.WithCancelCause(t.Context())
				var rec trace.Recorder
				before := openFDs(t)
				err := l.Run(ctx, trace.New(trace.Multi(&rec, &cancelAt{at: at, cancel: cancel})), Options{})
				interrupted := ctx.Err() != nil
				cancel(nil)
				events := rec.Events()
				switch {
				case !interrupted && err != nil:
					t.Errorf("run to the end (%d events, cut at %d): %v", total, at, err)
				case interrupted && err == nil:
					// A lesson may finish its story after the interrupt
					// only with calls that take no context (bind, close,
					// …): every call that waits, reads or writes checks
					// it first. One such call per peer may still begin
					// after the interrupt, and end well: it checked just
					// before. (socklab itself says "interrupted" from the
					// context's cause, whatever the lesson returns.)
					began := map[string]int{}
					for _, e := range events[min(int(at), len(events)):] {
						if e.Phase != trace.Begin {
							continue // a call begun before the interrupt may end well
						}
						switch e.Op {
						case trace.OpAccept, trace.OpConnect, trace.OpRead, trace.OpWrite, trace.OpRecvfrom, trace.OpSendto:
							if began[e.Peer]++; began[e.Peer] > 1 {
								t.Errorf("interrupted at event %d of %d, %s went on to %s (seq %d) and the lesson says it succeeded", at, total, e.Peer, e.Op, e.Seq)
							}
						}
					}
				}
				checkClosedAll(t, rec.Events())
				if leaked := before.Leaked(openFDs(t)); leaked != nil {
					t.Errorf("interrupted at event %d of %d: descriptors left open: %v", at, total, leaked)
				}
				if err := goleak.Find(); err != nil {
					t.Fatalf("interrupted at event %d of %d: %v", at, total, err)
				}
			}
		})
	}
}
