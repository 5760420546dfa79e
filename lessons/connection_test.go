package lessons

import (
	"testing"

	"github.com/socklab/socklab/trace"
)

// run builds a run's events, one call at a time: its Begin and End.
type run struct {
	events []trace.Event
	seq    uint64
}

func (r *run) call(peer string, pid int, op trace.Op, fd int, f func(*trace.Event)) {
	role := trace.Client
	if peer[:6] == "server" {
		role = trace.Server
	}
	for _, phase := range []trace.Phase{trace.Begin, trace.End} {
		r.seq++
		e := trace.Event{Seq: r.seq, Peer: peer, Role: role, PID: pid, Op: op, Phase: phase, FD: fd, Kind: "tcp",
			Step: trace.StepOf(role, op, phase, false)}
		if phase == trace.Begin && op == trace.OpCreate {
			e.FD = -1
		}
		if phase == trace.End && f != nil {
			f(&e)
		}
		r.events = append(r.events, e)
	}
}

const (
	srvAddr = "127.0.0.1:1234"
	cliAddr = "127.0.0.1:40000"
)

func ret(n int) func(*trace.Event) { return func(e *trace.Event) { e.Ret = n } }
func on(local, remote string, f func(*trace.Event)) func(*trace.Event) {
	return func(e *trace.Event) {
		e.Local, e.Remote = local, remote
		if f != nil {
			f(e)
		}
	}
}
func moved(n int) func(*trace.Event) { return func(e *trace.Event) { e.Ret, e.N = n, n } }

// server makes the listener, fd 3 of pid 10, and accepts fd 4.
func (r *run) server() {
	r.call("server", 10, trace.OpCreate, 3, ret(3))
	r.call("server", 10, trace.OpBind, 3, on(srvAddr, "", nil))
	r.call("server", 10, trace.OpListen, 3, on(srvAddr, "", nil))
}

func (r *run) accepted() {
	r.call("server", 10, trace.OpAccept, 3, on(srvAddr, cliAddr, ret(4)))
}

// Rules and steps are about the connection the server accepted: a
// start-up probe's close (a Java or Go client makes one before its real
// socket) is not the client's close, and a client that never closed its
// connection fails though the probe was closed.
func TestCheckMatchesTheConnection(t *testing.T) {
	var r run
	r.server()
	r.call("client", 20, trace.OpCreate, 3, ret(3)) // a probe
	r.call("client", 20, trace.OpClose, 3, func(e *trace.Event) { e.Step = 11; e.Remote = "[::1]:9" })
	r.call("client", 20, trace.OpCreate, 3, ret(3))
	r.call("client", 20, trace.OpConnect, 3, on(cliAddr, srvAddr, nil))
	r.accepted()
	r.call("client", 20, trace.OpWrite, 3, on(cliAddr, srvAddr, moved(5)))
	r.call("server", 10, trace.OpRead, 4, on(srvAddr, cliAddr, moved(5)))
	r.call("server", 10, trace.OpWrite, 4, on(srvAddr, cliAddr, moved(5)))
	r.call("client", 20, trace.OpRead, 3, on(cliAddr, srvAddr, moved(5)))
	r.call("server", 10, trace.OpClose, 4, on(srvAddr, cliAddr, func(e *trace.Event) { e.Step = 11 }))
	rep := elevenStepsExpected.Check(r.events)
	if rep.OK() {
		t.Fatal("a client that closed only its probe passed")
	}
	for _, c := range rep.Calls {
		if c.Op == trace.OpClose && c.Peer == "client" && c.Seen != nil {
			t.Errorf("the client's close matched the probe's: %+v", *c.Seen)
		}
	}
}

// A forking server's child (server-2) is the server: its read, reply and
// close are the server's; the parent's close of its copy is no step.
func TestCheckForkingServer(t *testing.T) {
	var r run
	r.server()
	r.call("client", 20, trace.OpCreate, 3, ret(3))
	r.call("client", 20, trace.OpConnect, 3, on(cliAddr, srvAddr, nil))
	r.accepted()
	r.call("server", 10, trace.OpClose, 4, on(srvAddr, cliAddr, func(e *trace.Event) { e.Copies = 1; e.Step = 0 }))
	r.call("client", 20, trace.OpWrite, 3, on(cliAddr, srvAddr, moved(5)))
	r.call("server-2", 11, trace.OpRead, 4, on(srvAddr, cliAddr, moved(5)))
	r.call("server-2", 11, trace.OpWrite, 4, on(srvAddr, cliAddr, moved(5)))
	r.call("client", 20, trace.OpRead, 3, on(cliAddr, srvAddr, moved(5)))
	r.call("client", 20, trace.OpClose, 3, on(cliAddr, srvAddr, func(e *trace.Event) { e.Step = 11 }))
	r.call("server-2", 11, trace.OpRead, 4, on(srvAddr, cliAddr, moved(0)))
	r.call("server-2", 11, trace.OpClose, 4, on(srvAddr, cliAddr, func(e *trace.Event) { e.Step = 11 }))
	r.call("server", 10, trace.OpClose, 3, on(srvAddr, "", func(e *trace.Event) { e.Step = 11 }))
	rep := elevenStepsExpected.Check(r.events)
	for _, c := range rep.Calls {
		if c.Seen == nil {
			t.Errorf("%s %s (%s) not seen", c.Peer, c.Op, c.What)
		}
	}
	for _, c := range rep.Checks {
		if !c.Checked || !c.OK {
			t.Errorf("rule %v: checked %v, held %v", c.Rule, c.Checked, c.OK)
		}
	}
}

// A refused connect and an accept a signal interrupted are no steps: the
// rule between them is not checked, let alone held.
func TestCheckRefusedIsNoConnection(t *testing.T) {
	var r run
	r.server()
	r.call("server", 10, trace.OpAccept, 3, func(e *trace.Event) { e.Ret, e.Errno, e.Err, e.Signal = -1, "EINTR", errString("EINTR"), "SIGINT" })
	r.call("client", 20, trace.OpCreate, 3, ret(3))
	r.call("client", 20, trace.OpConnect, 3, func(e *trace.Event) {
		e.Remote, e.Ret, e.Errno, e.Err = "127.0.0.1:1235", -1, "ECONNREFUSED", errString("ECONNREFUSED")
	})
	// The interrupted accept comes after the refused connect.
	r.events = append(r.events[:6], append(r.events[8:], r.events[6:8]...)...)
	rep := elevenStepsExpected.Check(r.events)
	if rep.OK() {
		t.Fatal("a refused connect passed")
	}
	for _, c := range rep.Checks {
		if c.Checked {
			t.Errorf("rule %v checked (held %v): its calls failed", c.Rule, c.OK)
		}
	}
}
