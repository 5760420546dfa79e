package trace

import (
	"strings"
	"unicode/utf8"
)

// packetExplanation returns the catalogue key of the sentence that
// explains a packet of its kind, or "".
func packetExplanation(e *Event) string {
	p := e.Packet
	switch {
	case p == nil:
		return ""
	case p.Proto == "udp":
		return "explain.packet.udp"
	case p.Flags == "SYN":
		return "explain.packet.syn"
	case p.Flags == "SYN-ACK":
		return "explain.packet.synack"
	case strings.Contains(p.Flags, "RST") && p.Seq == 0 && p.Ack == 1:
		// The answer to a SYN: its sender has sent nothing before.
		return "explain.packet.rst_refused"
	case strings.Contains(p.Flags, "RST"):
		return "explain.packet.rst"
	case strings.Contains(p.Flags, "FIN"):
		return "explain.packet.fin"
	case e.N > 0:
		return "explain.packet.data"
	case p.Flags == "ACK":
		return "explain.packet.ack"
	}
	return ""
}

// explanation returns the catalogue key of the sentence that explains e's
// line by itself, or "".
func explanation(e *Event) string {
	begin := e.Phase == Begin
	switch e.Op {
	case OpCreate:
		if e.Role == Server {
			return "explain.create.server"
		}
		return "explain.create.client"
	case OpBind:
		switch {
		case e.Errno == "EADDRINUSE":
			return "explain.bind.inuse"
		case e.Kind == "unix":
			return "explain.bind.path"
		case e.Kind == "udp":
			return "explain.bind.udp"
		}
		return "explain.bind"
	case OpSetsockopt:
		for _, opt := range []string{"SO_REUSEADDR", "SO_LINGER", "SO_RCVTIMEO"} {
			if strings.HasPrefix(e.Option, opt) { // SO_RCVTIMEO_OLD and _NEW too
				return "explain.setsockopt." + opt
			}
		}
		return "explain.setsockopt"
	case OpGetsockname:
		return "explain.getsockname"
	case OpFcntl:
		if strings.HasPrefix(e.Command, "F_DUPFD") {
			return "explain.fcntl.dup"
		}
		return "explain.fcntl"
	case OpListen:
		if e.Kind == "unix" {
			return "explain.listen.unix"
		}
		return "explain.listen"
	case OpConnect:
		switch {
		case begin && e.Kind == "unix":
			return "explain.connect.begin.unix"
		case begin:
			return "explain.connect.begin"
		case e.Errno == "ECONNREFUSED":
			return "explain.connect.refused"
		case e.Errno == "EINPROGRESS":
			return "explain.connect.inprogress"
		case e.Err == nil && e.Kind == "unix":
			return "explain.connect.end.unix"
		case e.Err == nil:
			return "explain.connect.end"
		}
	case OpAccept:
		switch {
		case begin && e.Kind == "unix":
			return "explain.accept.begin.unix"
		case begin && e.QueueKnown && e.Queued > 0:
			return "explain.accept.queued"
		case begin:
			return "explain.accept.begin"
		case e.Errno == "EAGAIN" && e.Nonblock:
			return eagain(e)
		case e.Err == nil && e.Interrupt == "":
			return "explain.accept.end"
		}
	case OpWrite:
		if begin {
			return "explain.write"
		}
	case OpRead:
		switch {
		case begin && e.QueueKnown && e.Queued > 0:
			return "explain.read.queued"
		case begin:
			return "explain.read.begin"
		case e.Errno == "EAGAIN" && e.Nonblock:
			return eagain(e)
		case e.EOF():
			return "explain.read.eof"
		case e.Errno == "ECONNRESET":
			return "explain.read.reset"
		case e.Errno == "EAGAIN":
			return "explain.read.timeout"
		case e.Err == nil && e.Ret > 0:
			return "explain.read.end"
		}
	case OpShutdown:
		if begin {
			return "explain.shutdown"
		}
	case OpSendto:
		if begin {
			return "explain.sendto"
		}
	case OpRecvfrom:
		if !begin && e.Err == nil {
			return "explain.recvfrom"
		}
	case OpPoll:
		switch {
		case begin:
			return "explain.poll.begin"
		case e.Err == nil && e.Ret == 0:
			return "explain.poll.timeout"
		case e.Err == nil:
			return "explain.poll.end"
		}
	case OpEpollCreate:
		return "explain.epoll.create"
	case OpEpollCtl:
		return "explain.epoll.ctl"
	case OpIoctl:
		if e.Command == "FIONBIO" {
			return "explain.ioctl.fionbio"
		}
	case OpGetsockopt:
		switch {
		case e.Option == "SO_ERROR" && e.Connected:
			return "explain.getsockopt.connected"
		case e.Option == "SO_ERROR":
			return "explain.getsockopt.so_error"
		}
	case OpClose:
		switch {
		case !begin:
		case e.Kind == "epoll":
			return "explain.close.epoll"
		case e.Abort:
			return "explain.close.rst"
		case e.Kind == "udp":
			return "explain.close.udp"
		case e.Remote == "":
			return "explain.close.unconnected"
		case e.Kind == "unix":
			return "explain.close.unix"
		default:
			return "explain.close"
		}
		if e.Kernel.State == "TIME_WAIT" || e.Kernel.PeerState == "TIME_WAIT" {
			return "explain.close.state"
		}
	}
	if e.Interrupt != "" {
		return "explain.interrupted"
	}
	return ""
}

// eagain is the explanation of a non-blocking call's EAGAIN: Go's net
// waits on its runtime's poller, another program in a poll or epoll of its
// own (a traced program's events carry its PID).
func eagain(e *Event) string {
	if e.PID != 0 {
		return "explain.nonblock.eagain.program"
	}
	return "explain.nonblock.eagain"
}

// explain returns the catalogue key of the sentence that explains e's
// line, or "", chosen from what the call really did in its context: a read
// that got part of one write, or bytes of two, or half a character; a
// close after the connection was reset, which sends nothing; a close whose
// other end, not this one, waits in TIME_WAIT. It follows every event, so
// it must see them all, shown or not.
func (a *Annotator) explain(e *Event) string {
	if e.Op == OpPacket {
		return packetExplanation(e)
	}
	fd := peerFD{e.Peer, e.FD}
	switch {
	case e.Op == OpWrite && e.Phase == Begin:
		f := flow{e.Local, e.Remote}
		a.flows[f] = append(a.flows[f], e.N)
	case e.Op == OpWrite && e.Phase == End:
		// The Begin counted the bytes offered; the kernel may have taken
		// fewer, and sends only those.
		// The writer makes one call at a time: its last entry is this
		// write's, and no read can have taken bytes it did not send.
		f := flow{e.Local, e.Remote}
		if e.Offered > e.Ret {
			if w := a.flows[f]; len(w) > 0 {
				if w[len(w)-1] -= e.Offered - max(e.Ret, 0); w[len(w)-1] <= 0 {
					a.flows[f] = w[:len(w)-1] // a failed write sent nothing
				}
			}
		}
	case e.Op == OpAccept && e.Phase == End && e.Ret >= 0:
		a.conns[peerFD{e.Peer, e.Ret}] = true
	case e.Op == OpConnect && e.Phase == End && e.Err == nil:
		a.conns[fd] = true
	case e.Op == OpShutdown && e.Phase == End && e.Err == nil && (e.Command == "SHUT_WR" || e.Command == "SHUT_RDWR"):
		a.finFirst[fd] = true
	case e.Op == OpFcntl && e.Phase == End && e.Err == nil && strings.HasPrefix(e.Command, "F_DUPFD"):
		a.pollers[fd] = true
	case e.Op == OpClose && e.Phase == End:
		if e.Kernel.State == "TIME_WAIT" && e.Local != "" {
			a.timeWait[e.Local] = true
		}
		if e.Kernel.PeerState == "TIME_WAIT" && e.Remote != "" {
			a.timeWait[e.Remote] = true
		}
		finFirst := a.finFirst[fd]
		delete(a.finFirst, fd)
		delete(a.resets, fd) // the number may be given to a new socket
		delete(a.conns, fd)
		delete(a.pollers, fd)
		// What was written and never read is gone with the connection.
		delete(a.flows, flow{e.Local, e.Remote})
		delete(a.flows, flow{e.Remote, e.Local})
		if finFirst && e.Kernel.State == "TIME_WAIT" {
			// Its FIN went with shutdown, before the other end's,
			// however late this close came.
			return "explain.close.state.shutdown"
		}
	}
	// Only a reset says the connection is gone: EPIPE also follows this
	// side's own shutdown, after which close still sends FIN.
	if e.Phase == End && e.Errno == "ECONNRESET" {
		a.resets[fd] = true
	}
	switch {
	case e.Op == OpRead && e.Phase == End && e.Err == nil && e.Ret > 0:
		joined, partial := a.consume(flow{e.Remote, e.Local}, e.Ret)
		switch {
		case endsMidCharacter(e.Data):
			return "explain.read.split_char"
		case joined:
			return "explain.read.joined"
		case partial:
			return "explain.read.partial"
		}
	case e.Op == OpRead && e.Phase == End && e.Interrupt != "" && e.Err == nil:
		return "explain.read.interrupted"
	case e.Op == OpConnect && e.Phase == End && e.Interrupt == "connect-timeout":
		return "explain.connect.interrupted"
	case e.Op == OpClose && e.Phase == Begin && a.resets[fd] && !e.Abort:
		return "explain.close.after_reset"
	case e.Op == OpClose && e.Phase == Begin && e.Kind == "unix" && a.conns[fd]:
		// A Unix socket's peer has no address to show: the connection
		// is known from the accept or connect that made it.
		return "explain.close.unix"
	case e.Op == OpClose && e.Phase == End && e.Kernel.State != "TIME_WAIT" && e.Kernel.PeerState == "TIME_WAIT":
		return "explain.close.state.other"
	case e.Op == OpBind && e.Phase == End && e.Errno == "EADDRINUSE" && a.timeWait[e.Local]:
		return "explain.bind.inuse.timewait"
	case e.Op == OpBind && e.Phase == End && e.Err == nil && a.timeWait[e.Local]:
		return "explain.bind.reuse"
	case e.Phase == End && e.Errno == "EAGAIN" && e.Nonblock && e.Interrupt == "" && !a.pollers[fd] &&
		(e.Op == OpAccept || e.Op == OpRead || e.Op == OpRecvfrom):
		// Not Go's poller's socket (the lessons nonblocking and epoll):
		// the program itself waits elsewhere.
		return "explain.nonblock.eagain.program"
	}
	return explanation(e)
}

// consume takes n bytes read from what f's writes carried, and reports
// whether they came from two writes or more (joined), or were only part of
// one, whose rest waits for the next read (partial).
func (a *Annotator) consume(f flow, n int) (joined, partial bool) {
	writes := a.flows[f]
	touched, rest := 0, false
	for n > 0 && len(writes) > 0 {
		take := min(n, writes[0])
		writes[0] -= take
		n -= take
		touched++
		if writes[0] > 0 {
			rest = true
			break
		}
		writes = writes[1:]
	}
	if len(writes) == 0 {
		delete(a.flows, f)
	} else {
		a.flows[f] = writes
	}
	return touched > 1, touched == 1 && rest
}

// endsMidCharacter reports whether b ends with the first bytes of a UTF-8
// character whose other bytes have not come yet.
func endsMidCharacter(b []byte) bool {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			// FullRune is false only for a valid start cut short.
			return !utf8.FullRune(b[i:])
		}
	}
	return false
}
