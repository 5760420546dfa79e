package sock

import (
	"context"
	"time"

	"github.com/socklab/socklab/internal/kernelview"
	"github.com/socklab/socklab/trace"
)

// The kernel's view (package internal/kernelview), as the lessons' sockets
// record it: after a call, the socket's TCP state; after close, what the
// kernel's connection table still holds for it. Observations made with
// extra syscalls, only when the tracer asks for them
// (trace.Tracer.SetKernelState); they are not steps.

// Where the kernel's view came from (trace.KernelView's From).
const (
	FromTCPInfo  = kernelview.FromTCPInfo
	FromSockDiag = kernelview.FromSockDiag
	FromTable    = kernelview.FromTable
	FromTable6   = kernelview.FromTable6
)

// KernelViewEnv names the environment variable that, set to "table",
// makes the kernel's view after close come from the whole table even
// where sock_diag answers: to compare the two, or where sock_diag
// misbehaves. The tests use it to run every kernel-view check both ways.
const KernelViewEnv = kernelview.Env

// noteState records in e the socket's TCP state after the call.
func (s *Socket) noteState(e *trace.Event) {
	if !s.peer.KernelState() || s.fd < 0 {
		return
	}
	switch e.Op {
	case trace.OpCreate, trace.OpBind, trace.OpGetsockname, trace.OpSetsockopt, trace.OpFcntl:
		return // not connected to anything yet: nothing to learn
	}
	fd := s.fd
	if e.Op == trace.OpAccept {
		if e.Ret < 0 {
			return
		}
		fd = e.Ret // the new socket, not the listening one
	}
	v := kernelview.StateOf(fd, e.Local, e.Remote, s.v6)
	e.Kernel.State, e.Kernel.Timer, e.Kernel.From = v.State, v.Timer, v.From
}

// openTableBeforeClose prepares the kernel's view after close, if the
// tracer wants it (see kernelview.BeforeClose: where the view comes from
// the kernel's TCP table, the table is opened before the close, so that
// its descriptor cannot take the number the close frees).
func (s *Socket) openTableBeforeClose() {
	s.viewAfterClose = s.peer.KernelState() && s.kind == TCP && s.local != "" && s.remote != ""
	if s.viewAfterClose {
		s.closing = kernelview.BeforeClose(s.v6)
	}
}

// noteStateAfterClose records in e what the kernel's table holds for the
// connection that was just closed: this side (FIN_WAIT1, FIN_WAIT2,
// TIME_WAIT, LAST_ACK, or gone: CLOSED) and, if the other end is on this
// machine, that side too.
func (s *Socket) noteStateAfterClose(e *trace.Event, local, remote string) {
	if !s.viewAfterClose {
		return // not asked for, or a socket with no connection to look up
	}
	c := s.closing
	s.closing, s.viewAfterClose = kernelview.Closing{}, false
	c.Note(e, local, remote)
}

// TableReadable reports whether this system lets socklab see the kernel's
// TCP connections after close (Linux: sock_diag, or the table
// /proc/net/tcp, or tcp6 with v6).
func TableReadable(v6 bool) bool { return kernelview.TableReadable(v6) }

// AwaitTableState waits, up to timeout, until the kernel's TCP table shows
// the connection with these addresses in state want, and reports whether
// it did. It is an observation (it reads the table), not a traced call;
// where the table cannot be read it returns false at once.
func AwaitTableState(ctx context.Context, local, remote string, v6 bool, want string, timeout time.Duration) bool {
	return kernelview.AwaitTableState(ctx, local, remote, v6, want, timeout)
}

// TableState returns the state the kernel shows for the connection with
// these addresses, and whether it holds one at all, asked as the view
// after close is (sock_diag, or the table). It is an observation, not a
// traced call.
func TableState(local, remote string, v6 bool) (state string, found bool) {
	return kernelview.TableState(local, remote, v6)
}

// Delivery is what became of the bytes a socket last wrote: the peer's
// kernel acknowledged them, or answered with RST, or neither was seen.
type Delivery int

const (
	DeliveryUnknown Delivery = iota // not seen in time, or not on this system
	Delivered                       // every byte sent was acknowledged
	Reset                           // the connection was reset: the peer's socket was gone
)

// AwaitDelivery waits, up to timeout, until every byte written has been
// acknowledged by the peer's kernel (TCP_INFO's unacked count is 0) or the
// connection was reset (its state is CLOSED). An acknowledgement means the
// bytes reached a live socket of the peer; a closed one answers RST. It is
// an observation (getsockopt), not a traced call.
func (s *Socket) AwaitDelivery(ctx context.Context, timeout time.Duration) Delivery {
	if s.fd < 0 || s.kind != TCP {
		return DeliveryUnknown
	}
	deadline := time.Now().Add(timeout)
	for {
		state, unacked, ok := kernelview.Unacked(s.fd)
		switch {
		case !ok:
			return DeliveryUnknown
		case state == "CLOSED":
			return Reset
		case unacked == 0:
			return Delivered
		case time.Now().After(deadline) || ctx.Err() != nil:
			return DeliveryUnknown
		}
		time.Sleep(time.Millisecond)
	}
}

// noteQueue records in e, the Begin of a blocking accept, read or
// recvfrom, what the kernel already holds for it (Event.Queued), so that
// the line can say whether the call will wait: the connections in a
// listener's accept queue, the bytes waiting to be read. Made just before
// the call, with extra syscalls (a getsockopt, an ioctl), only when the
// tracer wants the kernel's view. Nothing can take what is queued between
// this look and the call (this goroutine is the only one that accepts or
// reads the socket), so "returns at once" is always true; "waits" may
// not be, when something arrives in between. A read that finds nothing
// waiting returns at once all the same when the peer has closed (end of
// file): for a TCP socket the state says so and the line makes no claim,
// nor for a Unix socket, whose state is not read.
func (s *Socket) noteQueue(e *trace.Event) {
	if !s.peer.KernelState() || s.nonblock || s.fd < 0 {
		return
	}
	var n int
	var ok bool
	if e.Op == trace.OpAccept {
		n, ok = kernelview.AcceptQueue(s.fd)
	} else {
		n, ok = kernelview.BytesWaiting(s.fd)
	}
	if ok && n == 0 && e.Op == trace.OpRead {
		switch s.kind {
		case Unix:
			ok = false
		case TCP:
			state := kernelview.StateOf(s.fd, "", "", s.v6).State
			ok = state == "ESTABLISHED" || state == "FIN_WAIT1" || state == "FIN_WAIT2"
		}
	}
	e.Queued, e.QueueKnown = n, ok
}
