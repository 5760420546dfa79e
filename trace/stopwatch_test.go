package trace

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/socklab/socklab/trace/tracetest"
)

var errBound = errors.New("bound over")

func TestStopwatchBoundsCountOnlyUnheldTime(t *testing.T) {
	tests := []struct {
		name string
		play func(c *tracetest.Clock, w *Stopwatch) // what happens after a 10s bound starts
		over bool                                   // whether the bound is then over
	}{
		{"unheld for less than the bound", func(c *tracetest.Clock, w *Stopwatch) { c.Advance(9 * time.Second) }, false},
		{"unheld for the bound", func(c *tracetest.Clock, w *Stopwatch) { c.Advance(10 * time.Second) }, true},
		{"held for an hour", func(c *tracetest.Clock, w *Stopwatch) {
			defer w.Hold()()
			c.Advance(time.Hour)
		}, false},
		{"held, then unheld for less than the bound", func(c *tracetest.Clock, w *Stopwatch) {
			c.Advance(6 * time.Second)
			release := w.Hold()
			c.Advance(time.Minute)
			release()
			c.Advance(3 * time.Second)
		}, false},
		{"held in the middle, then unheld for the rest", func(c *tracetest.Clock, w *Stopwatch) {
			c.Advance(6 * time.Second)
			release := w.Hold()
			c.Advance(time.Minute)
			release()
			c.Advance(4 * time.Second)
		}, true},
		{"nested holds: the watch runs again after the last", func(c *tracetest.Clock, w *Stopwatch) {
			outer, inner := w.Hold(), w.Hold()
			c.Advance(time.Minute)
			outer()
			c.Advance(time.Minute)
			inner()
			c.Advance(9 * time.Second)
		}, false},
		{"a release called twice releases once", func(c *tracetest.Clock, w *Stopwatch) {
			outer, inner := w.Hold(), w.Hold()
			inner()
			inner()
			c.Advance(time.Minute)
			outer()
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := new(tracetest.Clock)
			w := newStopwatch(c)
			ctx, cancel := w.Within(context.Background(), 10*time.Second, errBound)
			defer cancel()
			tt.play(c, w)
			over := ctx.Err() != nil
			if over != tt.over {
				t.Fatalf("bound over: got %v, want %v (unheld time %v)", over, tt.over, w.Unheld())
			}
			if over && !errors.Is(context.Cause(ctx), errBound) {
				t.Errorf("cause: got %v, want %v", context.Cause(ctx), errBound)
			}
		})
	}
}

func TestStopwatchUnheld(t *testing.T) {
	c := new(tracetest.Clock)
	w := newStopwatch(c)
	c.Advance(2 * time.Second)
	release := w.Hold()
	c.Advance(time.Minute)
	if got := w.Unheld(); got != 2*time.Second {
		t.Errorf("while held: Unheld() = %v, want 2s", got)
	}
	release()
	c.Advance(time.Second)
	if got := w.Unheld(); got != 3*time.Second {
		t.Errorf("after the hold: Unheld() = %v, want 3s", got)
	}
}

// firingClock counts the timers of its Clock that fired.
type firingClock struct {
	*tracetest.Clock
	fired int
}

func (c *firingClock) AfterFunc(d time.Duration, f func()) func() bool {
	return c.Clock.AfterFunc(d, func() { c.fired++; f() })
}

func TestStopwatchCancelledBoundNeverFires(t *testing.T) {
	for _, held := range []bool{false, true} {
		c := &firingClock{Clock: new(tracetest.Clock)}
		w := newStopwatch(c)
		_, cancel := w.Within(context.Background(), time.Second, errBound)
		if held {
			release := w.Hold() // paused, then resumed: a new timer
			c.Advance(time.Minute)
			release()
		}
		cancel()
		c.Advance(time.Minute)
		if c.fired != 0 {
			t.Errorf("held %v: %d timers fired after cancel", held, c.fired)
		}
		if n := len(w.bounds); n != 0 {
			t.Errorf("held %v: %d bounds still kept after cancel", held, n)
		}
	}
}

func TestStopwatchRealClock(t *testing.T) {
	// The system clock's bound fires by itself, and a hold keeps it back.
	w := newStopwatch(systemClock{})
	ctx, cancel := w.Within(context.Background(), 20*time.Millisecond, errBound)
	defer cancel()
	release := w.Hold()
	time.Sleep(50 * time.Millisecond)
	if ctx.Err() != nil {
		t.Fatal("the bound fired while the watch was held")
	}
	release()
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the bound never fired once the watch ran again")
	}
}
