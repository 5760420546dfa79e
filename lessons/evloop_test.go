package lessons

import (
	"fmt"
	"slices"
	"testing"

	"github.com/socklab/socklab/trace"
)

// TestNonblockingNeverWaitsButInPoll: every accept, read and write of
// the nonblocking lesson is on a non-blocking socket, so the only calls
// that wait are its polls; step 7 is the client's SO_ERROR = 0, after its
// connect's EINPROGRESS.
func TestNonblockingNeverWaitsButInPoll(t *testing.T) {
	events := runLesson(t, "nonblocking", Options{})
	for _, e := range events {
		switch e.Op {
		case trace.OpAccept, trace.OpRead, trace.OpWrite, trace.OpConnect:
			if !e.Nonblock {
				t.Errorf("seq %d: %s %s on a blocking socket", e.Seq, e.Peer, e.Op)
			}
		}
	}
	so, ok := trace.Find(events, trace.EndOf("client", trace.OpGetsockopt))
	if !ok || !so.Connected || so.Step != 7 || so.Option != "SO_ERROR" || so.Value != 0 {
		t.Errorf("the client's getsockopt: connected %v, step %d, option %q, value %d; want SO_ERROR = 0, connected, step 7",
			so.Connected, so.Step, so.Option, so.Value)
	}
	if c, _ := trace.Find(events, trace.EndOf("client", trace.OpConnect)); c.Step == 7 {
		t.Error("the non-blocking connect's End is step 7; the step is SO_ERROR's")
	}
}

// TestEpollServesEveryClient: one peer, the server, serves every client;
// it waits only in epoll_wait, touches only sockets epoll said were ready
// (so no call of its finds nothing: no EAGAIN), echoes each client's
// message on that client's connection, and takes each socket out of the
// set before closing it.
func TestEpollServesEveryClient(t *testing.T) {
	const clients = 5
	events := runLesson(t, "epoll", Options{Clients: clients})
	ready := map[int]bool{} // descriptors the last epoll_wait found ready, not yet used
	watched := map[int]bool{}
	echoed := map[string]string{} // the connection's remote address → what the server wrote back
	for _, e := range events {
		if e.Peer != "server" {
			continue
		}
		if e.Phase == trace.End && e.Err != nil {
			t.Errorf("seq %d: server %s failed: %v", e.Seq, e.Op, e.Err)
		}
		switch {
		case e.Op == trace.OpPoll && e.Phase == trace.End:
			for _, w := range e.Waits {
				ready[w.FD] = true
			}
		case (e.Op == trace.OpAccept || e.Op == trace.OpRead) && e.Phase == trace.Begin:
			if !e.Nonblock {
				t.Errorf("seq %d: %s on a blocking socket", e.Seq, e.Op)
			}
			if !ready[e.FD] {
				t.Errorf("seq %d: %s(%d) that no epoll_wait found ready", e.Seq, e.Op, e.FD)
			}
			delete(ready, e.FD)
		case e.Op == trace.OpEpollCtl && e.Phase == trace.End:
			watched[e.Waits[0].FD] = !e.Waits[0].Remove
		case e.Op == trace.OpWrite && e.Phase == trace.End:
			echoed[e.Remote] += string(e.Data)
		case e.Op == trace.OpClose && e.Phase == trace.Begin && e.Kind == "tcp" && e.Remote != "":
			if watched[e.FD] {
				t.Errorf("seq %d: close(%d) of a socket still in the epoll set", e.Seq, e.FD)
			}
		}
	}
	for i := range clients {
		name := clientName(i)
		local, ok := trace.Find(events, trace.EndOf(name, trace.OpGetsockname))
		if !ok {
			t.Fatalf("%s never learned its address", name)
		}
		if want := "hello from " + name; echoed[local.Local] != want {
			t.Errorf("the server echoed %q to %s, want %q", echoed[local.Local], name, want)
		}
	}
	peers := map[string]bool{}
	for _, e := range events {
		peers[e.Peer] = true
	}
	for p := range peers {
		if p != "server" && !slices.Contains(clientNames(clients), p) {
			t.Errorf("peer %s: the server is one peer, one thread", p)
		}
	}
}

func clientNames(n int) []string {
	var names []string
	for i := range n {
		names = append(names, fmt.Sprintf("client-%d", i+1))
	}
	return names
}
