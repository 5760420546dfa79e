package waitnote

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestEvery(t *testing.T) {
	var n atomic.Int32
	stop := Every(5*time.Millisecond, func(time.Duration) { n.Add(1) })
	time.Sleep(30 * time.Millisecond)
	stop()
	got := n.Load()
	if got == 0 {
		t.Errorf("said nothing in 30 ms, every 5 ms")
	}
	time.Sleep(20 * time.Millisecond)
	if n.Load() != got {
		t.Errorf("said more after stop")
	}
}
