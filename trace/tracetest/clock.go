// Package tracetest has what tests of traced programs need: a fake clock,
// so that a test can play a pause of a minute in no time.
package tracetest

import (
	"slices"
	"sync"
	"time"
)

// A Clock is a fake trace.Clock: its time moves only when Advance moves
// it, and the functions AfterFunc scheduled run then, in Advance's
// goroutine, in the order of their times. The zero value starts at the
// zero time; it is safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*timer
}

type timer struct {
	at   time.Time
	f    func()
	done bool
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc runs f when Advance reaches d from now.
func (c *Clock) AfterFunc(d time.Duration, f func()) (stop func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &timer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if t.done {
			return false
		}
		t.done = true
		return true
	}
}

// Advance moves the clock d ahead, running every function that falls due
// on the way, each with the clock set to its time.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	end := c.now.Add(d)
	for {
		c.timers = slices.DeleteFunc(c.timers, func(t *timer) bool { return t.done })
		i := slices.IndexFunc(c.timers, func(t *timer) bool { return !t.at.After(end) })
		if i < 0 {
			break
		}
		for j, t := range c.timers {
			if t.at.Before(c.timers[i].at) {
				i = j
			}
		}
		t := c.timers[i]
		t.done = true
		c.now = t.at
		c.mu.Unlock()
		t.f() // without the lock: f may schedule or stop timers
		c.mu.Lock()
	}
	c.now = end
	c.mu.Unlock()
}
