package lessons

import "github.com/socklab/socklab/trace"

// Matching per connection: a run may hold other sockets than the story's
// (a runtime's start-up probes, a second client, a retried connect), and
// a forking server's children carry its connection. The story is about
// one connection: the first the server accepted, known by its addresses
// (its 4-tuple), and the descriptors that carried it, in every process.

// An fdAt is one process's descriptor, for a stretch of the run.
type fdAt struct{ pid, fd int }

// connectionStory returns the events of the story's connection: those of
// the descriptors that carried it (the client's, the server's accepted
// one, in whichever process), of the listener it came through, and the
// creation of each, with every server-role peer named "server" (a forking
// server's children are the server). With no accepted connection (UDP, a
// refused connect) it returns events with only the peers renamed.
func connectionStory(events []trace.Event) []trace.Event {
	var acc *trace.Event
	for i := range events {
		e := &events[i]
		if e.Phase == trace.End && e.Op == trace.OpAccept && e.Err == nil && e.Ret >= 0 && e.Remote != "" && e.Local != "" {
			acc = e
			break
		}
	}
	if acc == nil {
		return serverNamed(events)
	}
	srv, cli := acc.Local, acc.Remote
	// The carriers: every descriptor seen with the connection's addresses
	// (either way round), and the listener the accept was called on.
	first := map[fdAt]int{} // where each fdAt is first seen carrying it
	last := map[fdAt]int{}
	note := func(c fdAt, i int) {
		if _, ok := first[c]; !ok {
			first[c] = i
		}
		last[c] = i
	}
	for i, e := range events {
		if e.FD < 0 {
			continue
		}
		if e.Local == srv && e.Remote == cli || e.Local == cli && e.Remote == srv {
			note(fdAt{e.PID, e.FD}, i)
		}
		if e.Seq == acc.Seq {
			note(fdAt{e.PID, e.FD}, i) // the listener
		}
	}
	// Each fdAt's stretch: from its creation (the last create or
	// accept that returned it before it was first seen) to its close.
	type stretch struct{ from, to int }
	stretches := map[fdAt]stretch{}
	for c, f := range first {
		from := f
		for i := f; i >= 0; i-- {
			e := events[i]
			if e.PID != c.pid || e.Phase != trace.End {
				continue
			}
			if (e.Op == trace.OpCreate || e.Op == trace.OpAccept) && e.Ret == c.fd && e.Err == nil {
				from = i
				break
			}
			if e.Op == trace.OpClose && e.FD == c.fd && i < f {
				break // an earlier socket on the same number
			}
		}
		to := len(events) - 1
		for i := last[c]; i < len(events); i++ {
			e := events[i]
			if e.PID == c.pid && e.Phase == trace.End && e.Op == trace.OpClose && e.FD == c.fd {
				to = i
				break
			}
		}
		stretches[c] = stretch{from, to}
	}
	in := func(i int, e trace.Event) bool {
		s, ok := stretches[fdAt{e.PID, e.FD}]
		return ok && i >= s.from && i <= s.to
	}
	var out []trace.Event
	for i, e := range events {
		switch {
		case e.Phase == trace.Begin && e.Op == trace.OpCreate:
			// Its End says which descriptor it made: the next End of
			// a create in the same process.
			for j := i + 1; j < len(events); j++ {
				n := events[j]
				if n.PID == e.PID && n.Op == trace.OpCreate && n.Phase == trace.End {
					if in(j, n) {
						out = append(out, e)
					}
					break
				}
			}
		case in(i, e):
			out = append(out, e)
		}
	}
	return serverNamed(out)
}

// serverNamed returns events with every server-role peer named "server":
// a forking server's children (server-2, …) are the server.
func serverNamed(events []trace.Event) []trace.Event {
	out := make([]trace.Event, len(events))
	for i, e := range events {
		if e.Role == trace.Server && e.Peer != "server" && len(e.Peer) > 7 && e.Peer[:7] == "server-" {
			e.Peer = "server"
		}
		out[i] = e
	}
	return out
}
