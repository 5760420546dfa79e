package wire

import (
	"testing"
	"time"

	"github.com/socklab/socklab/trace"
)

func TestTimelineHandsOverInTimeOrder(t *testing.T) {
	var tl timeline
	// As two CPUs may queue them: 5 before 3.
	for i, at := range []time.Duration{5, 3, 7, 3} {
		tl.add(trace.Event{Op: trace.OpPacket, Time: at, N: i})
	}
	var got []int
	emit := func(e trace.Event) { got = append(got, e.N) }
	for _, step := range []struct {
		until time.Duration
		want  []int // by the order they were added
	}{
		{2, nil},
		{4, []int{1, 3}}, // both stamped 3, in the order they came
		{6, []int{1, 3, 0}},
		{6, []int{1, 3, 0}},
		{100, []int{1, 3, 0, 2}},
	} {
		tl.until(step.until, emit)
		if !equal(got, step.want) {
			t.Fatalf("until %d: handed over %v, want %v", step.until, got, step.want)
		}
	}
	if len(tl.pending) != 0 {
		t.Errorf("%d left", len(tl.pending))
	}
}

func TestWallAtStartTakesTheTightestReading(t *testing.T) {
	const start = int64(1_700_000_000_000_000_000) // the wall clock when the trace started
	readings := []reading{
		// A reading interrupted between its two brackets is wide, and
		// its wall time could be anywhere in it.
		{before: 1000, after: 9000, wall: start + 8000},
		{before: 10000, after: 10040, wall: start + 10020},
		{before: 20000, after: 20500, wall: start + 20400},
	}
	if got := wallAtStart(readings); got != start {
		t.Errorf("wall clock at start %d, want %d (off by %d ns)", got, start, got-start)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
