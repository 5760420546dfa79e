// Package kernelview is the kernel's view of a TCP socket, for every
// source of events that shows it: the lessons' own sockets (trace/sock)
// and another program's, traced (trace/ptrace, which asks it of a
// duplicate of the program's descriptor).
//
// After a call, the view is the TCP state of the socket as the kernel
// reports it (TCP_INFO on Linux, TCP_CONNECTION_INFO on macOS), and after
// close, what the kernel's connection table still holds for it. These are
// observations made with extra syscalls (getsockopt, reading /proc/net/tcp),
// only when the tracer asks for them (trace.Tracer.SetKernelState); they are
// not steps, and the trace does not show them as calls.
//
// After close the socket is gone, so the kernel is asked about the
// connection by its four addresses: on Linux with sock_diag (one exact
// lookup, the same cost with 20,000 connections in TIME_WAIT as with none),
// or, where netlink is refused, by reading the whole table /proc/net/tcp.
// Each event says which answered (trace.KernelView's From).
package kernelview

import (
	"context"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/socklab/socklab/trace"
)

// Where the kernel's view came from (trace.KernelView's From).
const (
	FromTCPInfo  = "TCP_INFO"
	FromSockDiag = "sock_diag"
	FromTable    = "/proc/net/tcp"
	FromTable6   = "/proc/net/tcp6"
)

// Env names the environment variable that, set to "table", makes the
// kernel's view after close come from the whole table even where
// sock_diag answers: to compare the two, or where sock_diag
// misbehaves. The tests use it to run every kernel-view check both ways.
const Env = "SOCKLAB_KERNEL_VIEW"

// diagRefused is set once the system refused a sock_diag socket: it will
// not change its mind during a run, so the table is read from then on.
var diagRefused atomic.Bool

// SetDiagRefused makes the view behave as after the system refused a
// sock_diag socket (true), or as before (false): for the tests of the
// fallback to the table.
func SetDiagRefused(refused bool) { diagRefused.Store(refused) }

// tableOnly reports whether the view after close is read from the table.
func tableOnly() bool {
	return diagRefused.Load() || os.Getenv(Env) == "table"
}

func tableName(v6 bool) string {
	if v6 {
		return FromTable6
	}
	return FromTable
}

// closedView is what the kernel holds for the connection local–remote:
// this side (found says it holds it at all) and, if on this machine, the
// other end, and where the answer came from. opened, if not nil, is the
// table opened before the close (see BeforeClose); it is closed.
// ok is false when the kernel could not be asked.
func closedView(local, remote string, v6 bool, opened tcpTable) (own, other tableEntry, found bool, from string, ok bool) {
	if opened == nil && !tableOnly() {
		if own, other, found, ok = diagConnection(local, remote); ok {
			return own, other, found, FromSockDiag, true
		}
	}
	t := opened
	if t == nil {
		if t = sysOpenTCPTable(v6); t == nil {
			return own, other, false, "", false
		}
	}
	rows, ok := t.read()
	t.close()
	if !ok {
		return own, other, false, "", false
	}
	own, other, found = lookup(rows, local, remote)
	return own, other, found, tableName(v6), true
}

// StateOf returns the TCP state of the socket fd, as the kernel reports it,
// and the time left on its timer; its State is "" when the kernel does not
// say. local and remote are its addresses, when known: Linux hands a
// connection in TIME_WAIT to a small socket of its own and marks this one
// closed, and then the kernel is asked about the connection. socklab trace
// asks it of a duplicate of another program's descriptor.
func StateOf(fd int, local, remote string, v6 bool) trace.KernelView {
	state, ok := sysTCPState(fd)
	if !ok {
		return trace.KernelView{}
	}
	if state == "CLOSED" && local != "" && remote != "" {
		if own, _, found, from, ok := closedView(local, remote, v6, nil); ok {
			if found {
				return trace.KernelView{State: own.state, Timer: own.timer, From: from}
			}
			return trace.KernelView{State: state, From: from}
		}
	}
	return trace.KernelView{State: state, From: FromTCPInfo}
}

// diagConnection parses the addresses and asks sock_diag (see
// sysDiagConnection); ok is false where it cannot be asked. An accepted
// socket may know only its listener's address, 0.0.0.0: sock_diag needs
// the exact one, and the table, which matches such a socket by its ports,
// answers instead.
func diagConnection(local, remote string) (own, other tableEntry, found, ok bool) {
	l, err1 := netip.ParseAddrPort(local)
	r, err2 := netip.ParseAddrPort(remote)
	if err1 != nil || err2 != nil || l.Addr().IsUnspecified() || r.Addr().IsUnspecified() {
		return own, other, false, false
	}
	return sysDiagConnection(l, r)
}

// noteView records in e what the kernel holds for a closed connection.
func noteView(e *trace.Event, own, other tableEntry, found bool, from string) {
	e.Kernel.State, e.Kernel.Timer, e.Kernel.From = "CLOSED", 0, from
	if found {
		e.Kernel.State, e.Kernel.Timer = own.state, own.timer
	}
	if other.state != "" {
		e.Kernel.PeerState, e.Kernel.PeerTimer = other.state, other.timer
	}
}

// NoteClosed records in e, the End of the close of a connection's last
// descriptor, what the kernel's table holds for the connection e.Local –
// e.Remote now: this side and, if it is on this machine, the other end
// (trace.KernelView). socklab trace calls it for another program's close.
func NoteClosed(e *trace.Event, v6 bool) {
	if own, other, found, from, ok := closedView(e.Local, e.Remote, v6, nil); ok {
		noteView(e, own, other, found, from)
	}
}

// lookup finds, in the table, the socket with these addresses and the one
// at the connection's other end, when that end is on this machine.
func lookup(table []tableEntry, local, remote string) (own, other tableEntry, found bool) {
	l, err1 := netip.ParseAddrPort(local)
	r, err2 := netip.ParseAddrPort(remote)
	if err1 != nil || err2 != nil {
		return own, other, false
	}
	for _, c := range table {
		switch {
		case c.local.Port() == l.Port() && c.remote.Port() == r.Port() && sameAddr(c.local, l) && sameAddr(c.remote, r):
			own, found = c, true
		case c.local.Port() == r.Port() && c.remote.Port() == l.Port() && c.local.Addr() == r.Addr():
			other = c
		}
	}
	return own, other, found
}

// sameAddr reports whether the table's address is a's, when a names one:
// an accepted socket knows its listener's address, which may be 0.0.0.0.
// (With tens of thousands of connections on a busy machine, ports alone
// may match another connection's.)
func sameAddr(table, a netip.AddrPort) bool {
	return a.Addr().IsUnspecified() || table.Addr() == a.Addr()
}

// A Closing is the kernel's view of a connection prepared before its
// last descriptor is closed (BeforeClose), to be recorded after (Note).
type Closing struct {
	table tcpTable
	v6    bool
}

// BeforeClose prepares the kernel's view after the close of a connection:
// when it is to come from the kernel's TCP table, the table is opened
// before the close, so that its descriptor cannot take the number the
// close frees: strace would show reads on a closed socket's number (its
// content is made at read time, so it still tells the state after the
// close). sock_diag's netlink socket is made and closed after the close;
// strace shows it as what it is, a netlink socket.
func BeforeClose(v6 bool) Closing {
	c := Closing{v6: v6}
	if tableOnly() {
		c.table = sysOpenTCPTable(v6)
	}
	return c
}

// Note records in e, the End of the close, what the kernel's table holds
// for the connection local–remote now: this side (FIN_WAIT1, FIN_WAIT2,
// TIME_WAIT, LAST_ACK, or gone: CLOSED) and, if the other end is on this
// machine, that side too. The table BeforeClose opened is closed.
func (c Closing) Note(e *trace.Event, local, remote string) {
	if own, other, found, from, ok := closedView(local, remote, c.v6, c.table); ok {
		noteView(e, own, other, found, from)
	}
}

// tcpTable is the kernel's TCP table, opened: read it once, then close it.
type tcpTable interface {
	read() ([]tableEntry, bool)
	close()
}

// tableEntry is one socket of the kernel's TCP table.
type tableEntry struct {
	local, remote netip.AddrPort
	state         string
	timer         time.Duration // time left on the socket's timer, if it runs one that matters (TIME_WAIT)
}

// linuxStates names Linux's TCP states (include/net/tcp_states.h).
var linuxStates = [...]string{
	1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2",
	6: "TIME_WAIT", 7: "CLOSED", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING",
	12: "NEW_SYN_RECV",
}

func linuxStateName(n int) string {
	if n > 0 && n < len(linuxStates) && linuxStates[n] != "" {
		return linuxStates[n]
	}
	return ""
}

// TableReadable reports whether this system lets socklab see the kernel's
// TCP connections after close (Linux: sock_diag, or the table
// /proc/net/tcp, or tcp6 with v6).
func TableReadable(v6 bool) bool {
	t := sysOpenTCPTable(v6)
	if t == nil {
		return false
	}
	t.close()
	return true
}

// AwaitTableState waits, up to timeout, until the kernel's TCP table shows
// the connection with these addresses in state want, and reports whether
// it did. It is an observation (it reads the table), not a traced call;
// where the table cannot be read it returns false at once.
func AwaitTableState(ctx context.Context, local, remote string, v6 bool, want string, timeout time.Duration) bool {
	if !TableReadable(v6) {
		return false
	}
	deadline := time.Now().Add(timeout)
	for {
		if state, found := TableState(local, remote, v6); found && state == want {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(time.Millisecond)
	}
}

// Unacked returns the state of the TCP socket fd and how many of the
// segments it sent wait for an acknowledgement; ok is false where the
// kernel does not say (macOS says only whether it was reset: see
// sysDelivery). It is an observation (getsockopt), not a traced call.
func Unacked(fd int) (state string, unacked int, ok bool) { return sysDelivery(fd) }

// TableState returns the state the kernel shows for the connection with
// these addresses, and whether it holds one at all, asked as the view
// after close is (sock_diag, or the table). It is an observation, not a
// traced call.
func TableState(local, remote string, v6 bool) (state string, found bool) {
	own, _, found, _, _ := closedView(local, remote, v6, nil)
	return own.state, found
}

// ZoneIndex returns the index of the interface an IPv6 zone names ("lo",
// or a number), or 0: what a sockaddr and sock_diag's request carry.
func ZoneIndex(zone string) uint32 {
	if zone == "" {
		return 0
	}
	if ifi, err := net.InterfaceByName(zone); err == nil {
		return uint32(ifi.Index)
	}
	if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		return uint32(n)
	}
	return 0
}

// TimeWaitLeft returns the longest time left to a connection in
// TIME_WAIT whose local port is port, as the calling thread's network
// namespace's table shows it: why a bind to that port fails with
// EADDRINUSE. ok is false when none is there (or the table cannot be
// read).
func TimeWaitLeft(port uint16) (left time.Duration, ok bool) {
	for _, v6 := range []bool{false, true} {
		t := sysOpenTCPTable(v6)
		if t == nil {
			continue
		}
		entries, _ := t.read()
		t.close()
		for _, e := range entries {
			if e.state == "TIME_WAIT" && e.local.Port() == port {
				left, ok = max(left, e.timer), true
			}
		}
	}
	return left, ok
}
