// Package waitnote says, while a wait with no time limit lasts, how long
// it has waited so far: socklab server and client, waiting for a person
// at the other terminal, say so every so often.
package waitnote

import (
	"sync"
	"time"
)

// Every calls say with the time waited so far, every period, until the
// returned stop is called; stop returns once say is no longer called.
func Every(period time.Duration, say func(waited time.Duration)) (stop func()) {
	start := time.Now()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(period)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				say(time.Since(start).Round(time.Second))
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}
