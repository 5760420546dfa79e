// Package verdict judges one traced run of a class's programs against a
// lesson's story (socklab trace --expect, socklab grade): the lesson's
// report (lessons.Expectation.Check), and the first cause of a miss in
// one sentence, with a stable code that tools can read.
//
// The first cause comes first: a bind that failed (EADDRINUSE, and why), a
// refused connect, a time limit that ran out, a program that crashed, then
// the first call missing from the story and the first rule broken.
package verdict

import (
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/socklab/socklab/lessons"
	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/i18n"
	"github.com/socklab/socklab/trace/ptrace"
)

// Exit statuses of a judged run (socklab trace --expect, socklab grade).
const (
	Held     = 0 // the story held
	Missed   = 1 // it did not
	Unjudged = 3 // socklab could not judge: a program could not start, or nothing happened
)

// A Run is what a traced run left to judge.
type Run struct {
	Events   []trace.Event
	Exits    []ptrace.Exit // in launch order: the server first
	LeftOpen []ptrace.LeftOpen
	// Tails are each program's last lines of output, in launch order.
	Tails [][]string
	// Stopped is the signal socklab stopped an idle server with, or 0.
	Stopped syscall.Signal
	// TimedOut: the time limit (Limit) ran out and the programs were
	// stopped.
	TimedOut bool
	Limit    time.Duration
	// TimeWait tells, for a port, how long a connection in TIME_WAIT
	// still holds it (kernelview.TimeWaitLeft), read right after the run.
	TimeWait func(port uint16) (time.Duration, bool)
	// LaunchErr is why a program could not start, if one could not.
	LaunchErr error
}

// A Cause is the first reason a run missed its story: a stable Code
// (tools read it: "connect_refused", "bind_timewait", "miss.client.close"…),
// and the catalogue key and arguments of its sentence.
type Cause struct {
	Code string
	Key  string
	Args []any
}

// Say is the cause's sentence in l.
func (c Cause) Say(l i18n.Lang) string {
	if c.Key == "" {
		return ""
	}
	return l.T(c.Key, c.Args...)
}

// A Verdict is a judged run.
type Verdict struct {
	Report *lessons.Report // nil when the run could not be judged
	Passed bool
	Cause  Cause
	Status int // Held, Missed or Unjudged
}

// Judge judges r against x.
func Judge(x *lessons.Expectation, r Run) Verdict {
	if r.LaunchErr != nil {
		return Verdict{Cause: Cause{"not_started", "verdict.not_started", []any{r.LaunchErr.Error()}}, Status: Unjudged}
	}
	rep := x.Check(r.Events)
	v := Verdict{Report: rep, Passed: rep.OK() && !r.TimedOut}
	v.Cause = firstCause(rep, r)
	switch {
	case v.Passed:
		v.Status, v.Cause = Held, Cause{Code: "ok"}
	case r.TimedOut && len(r.Events) == 0:
		v.Status = Unjudged
	default:
		v.Status = Missed
	}
	return v
}

// firstCause finds the first reason the run missed, in the order a person
// would look for it.
func firstCause(rep *lessons.Report, r Run) Cause {
	listens := ""
	for _, e := range r.Events {
		if e.Phase == trace.End && e.Op == trace.OpListen && e.Err == nil && listens == "" {
			listens = e.Local
		}
	}
	for _, e := range r.Events {
		if e.Phase != trace.End || e.Role != trace.Server || e.Op != trace.OpBind || e.Errno != "EADDRINUSE" {
			continue
		}
		if ap, err := netip.ParseAddrPort(e.Local); err == nil && r.TimeWait != nil {
			if left, ok := r.TimeWait(ap.Port()); ok {
				return Cause{"bind_timewait", "verdict.bind_timewait", []any{e.Local, int(left.Round(time.Second) / time.Second)}}
			}
		}
		return Cause{"bind_in_use", "verdict.bind_in_use", []any{e.Local}}
	}
	for _, e := range r.Events {
		if e.Phase == trace.End && e.Role == trace.Client && e.Op == trace.OpConnect && e.Errno == "ECONNREFUSED" {
			if listens == "" {
				return Cause{"connect_refused", "verdict.refused_no_server", []any{e.Remote}}
			}
			return Cause{"connect_refused", "verdict.refused", []any{e.Remote, listens}}
		}
	}
	if r.TimedOut {
		return Cause{"timeout", "verdict.timeout", []any{r.Limit.String(), waitingIn(r.Events)}}
	}
	for i, x := range r.Exits {
		if x.Killed || i == 0 && r.Stopped != 0 || x.Code == 0 || resetByPeer(r.Events, x.PID) {
			// A crash on a reset or a broken pipe is the peer's doing:
			// what the peer missed (a reply it never read) comes first.
			continue
		}
		name := "server"
		if i > 0 {
			name = "client"
		}
		status := "exit " + strconv.Itoa(x.Code)
		if x.Signal != 0 {
			status = ptrace.SignalName(x.Signal)
		}
		tail := "-"
		if i < len(r.Tails) {
			// The last two lines that say something (not a traceback's
			// ^^^^ marks).
			var lines []string
			for _, line := range r.Tails[i] {
				if line = strings.TrimSpace(line); strings.IndexFunc(line, unicode.IsLetter) >= 0 {
					lines = append(lines, line)
				}
			}
			if len(lines) > 0 {
				tail = strings.Join(lines[max(0, len(lines)-2):], " / ")
			}
		}
		return Cause{"crashed", "verdict.crashed." + name, []any{status, lastCall(r.Events, name), tail}}
	}
	udp, tcp := false, false
	for _, e := range r.Events {
		udp = udp || e.Kind == "udp"
		tcp = tcp || e.Kind == "tcp"
	}
	if udp && !tcp {
		return Cause{"udp_not_tcp", "verdict.udp_not_tcp", nil}
	}
	for _, c := range rep.Calls {
		if c.Seen != nil || c.Optional {
			continue
		}
		if c.Op == trace.OpClose {
			for _, o := range r.LeftOpen {
				if o.Peer == c.Peer && o.Listening == (c.What == "listener") {
					return Cause{"closed_by_exit." + c.Peer, "verdict.closed_by_exit." + c.Peer, nil}
				}
			}
		}
		return Cause{strings.TrimPrefix(c.Missing, "expect."), c.Missing, nil}
	}
	for _, c := range rep.Checks {
		if c.Checked && !c.OK && c.Broken == "expect.broken.close_eof" && shutWrite(r.Events) {
			// The server read end of file from the client's shutdown, not
			// its close: another lesson's story.
			return Cause{"halfclose", "verdict.halfclose", nil}
		}
		if c.Checked && !c.OK {
			return Cause{strings.TrimPrefix(c.Broken, "expect."), c.Broken, nil}
		}
	}
	return Cause{}
}

// waitingIn says what each program's calls were waiting in when the time
// limit stopped them: the calls a signal interrupted, "server: recvfrom,
// client: recvfrom".
func waitingIn(events []trace.Event) string {
	var parts []string
	seen := map[string]bool{}
	for _, e := range events {
		if e.Phase == trace.End && (e.Signal != "" || e.Errno == "EINTR") && !seen[e.Peer] {
			seen[e.Peer] = true
			parts = append(parts, e.Peer+": "+e.Syscall)
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// lastCall names the last step of the exchange a peer's program made
// (accept, connect, a read or a write: not the closes its exit made),
// "recvfrom", or "-".
func lastCall(events []trace.Event, peer string) string {
	for i := len(events) - 1; i >= 0; i-- {
		e := events[i]
		switch e.Op {
		case trace.OpAccept, trace.OpConnect, trace.OpRead, trace.OpWrite, trace.OpListen:
		default:
			continue
		}
		if e.Phase == trace.End && e.Role == trace.Role(peer) && e.Err == nil {
			return e.Syscall
		}
	}
	return "-"
}

// shutWrite says whether a client shut its writing side down.
func shutWrite(events []trace.Event) bool {
	for _, e := range events {
		if e.Phase == trace.End && e.Role == trace.Client && e.Op == trace.OpShutdown && e.Err == nil &&
			(strings.Contains(e.Command, "SHUT_WR") || strings.Contains(e.Command, "SHUT_RDWR")) {
			return true
		}
	}
	return false
}

// resetByPeer says whether the process pid saw its peer reset the
// connection (ECONNRESET) or stop reading (EPIPE).
func resetByPeer(events []trace.Event, pid int) bool {
	for _, e := range events {
		if e.PID == pid && pid != 0 && e.Phase == trace.End && (e.Errno == "ECONNRESET" || e.Errno == "EPIPE") {
			return true
		}
	}
	return false
}
