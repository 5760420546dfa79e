package trace

import "strings"

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
