package ptrace

import (
	"encoding/binary"
	"slices"
	"strconv"
	"time"

	"github.com/socklab/socklab/trace"
)

// The waits: poll, ppoll, select, pselect6 and the epoll calls, where a
// program whose sockets are non-blocking really waits. Such a call is on
// several descriptors at once; it is shown when one of them is a socket
// of the lesson (its peer is that socket's), with every descriptor it
// names (trace.Wait: whether each is a socket and whether it listens, as
// the kernel says at the call). An epoll set is known from the epoll_ctl
// calls that built it, remembered per process and epoll descriptor, so
// that an epoll_wait names the sockets behind it; its epoll_create is
// shown once a socket of the lesson is added to it. A wait with a timeout of 0 only
// looks: it is shown when something was ready (Go's runtime looks at its
// epoll set many times a second; a look that found nothing is noise).

// An epollSet is what the model knows of one epoll instance.
type epollSet struct {
	entries map[int]epollEntry // by descriptor
	// create is the epoll_create that made it, kept until a socket of
	// the lesson is added (then shown before that epoll_ctl); nil once
	// shown or when made before the trace saw it.
	create *heldCall
}

// An epollEntry is one descriptor of a set: the events it is watched for,
// the data word the kernel hands back with them, and the socket's inode
// (0 for a descriptor that is no socket).
type epollEntry struct {
	events uint32
	data   uint64
	ino    uint64
}

// The events of poll and epoll (the same bits).
const (
	pollIn    = 0x1
	pollOut   = 0x4
	pollErr   = 0x8
	pollHup   = 0x10
	pollRdHup = 0x2000
)

// epoll_ctl's operations.
const (
	epollCtlAdd = 1
	epollCtlDel = 2
	epollCtlMod = 3
)

// setOf returns process p's epoll set on descriptor fd, or one of its
// parents' (a forked child shares them), or nil.
func (m *model) setOf(p *process, fd int) *epollSet {
	for q := p; q != nil; q = q.parent {
		if set := m.epolls[q.pid][fd]; set != nil {
			return set
		}
	}
	return nil
}

// enterWait is the entry of a wait call (the table's wait: true).
func (m *model) enterWait(pc *pending) *pending {
	c, e, a, pid := pc.c, &pc.e, pc.args, pc.p.pid
	e.Op = c.op
	var sock, heldSock *socket
	// consider notes in w what descriptor w.FD is (ino, from the
	// kernel, when isSock), and the first socket of the lesson among
	// the call's, or the first TCP or UDP socket whose role is not
	// known yet (a Unix one, as asyncio's self-pipe, may never say: its
	// waits are not kept).
	consider := func(w *trace.Wait, ino uint64, isSock bool) {
		if !isSock {
			return
		}
		s := m.socks[ino]
		if s == nil {
			s = m.adopt(pc.p, w.FD, ino)
		}
		w.Socket, w.Listens = true, s.listening
		switch {
		case sock == nil && (s.state == shown || m.all) && (s.role != "" || m.all):
			sock = s
		case heldSock == nil && s.state == held && (s.kind == "tcp" || s.kind == "udp"):
			heldSock = s
		}
	}
	for i, f := range c.args {
		switch f {
		case epollFlags:
			if a[i]&sockCloexec != 0 {
				e.Arg = "EPOLL_CLOEXEC"
			} else {
				e.Arg = "0"
			}
		case epollFD:
			e.FD = int(int32(a[i]))
		case pollFDs:
			pc.waits = m.pollfds(pid, a[i], a[i+1], false)
		case fdSets:
			pc.waits = m.fdsets(pid, a[i:i+4])
		case timeoutMs:
			ms := int(int32(a[i]))
			e.Arg, e.Timeout = strconv.Itoa(ms), time.Duration(ms)*time.Millisecond
			if ms < 0 {
				e.Timeout = -1
			}
		case timeoutTimespec, timeoutTimeval:
			e.Arg, e.Timeout = m.timeoutAt(pid, a[i], f == timeoutTimeval)
		}
	}
	switch c.op {
	case trace.OpEpollCreate:
		return pc // shown, if ever, once a socket is added (exitWait)
	case trace.OpEpollCtl:
		return m.enterEpollCtl(pc)
	}
	if e.FD >= 0 { // an epoll wait: the set's descriptors
		set := m.setOf(pc.p, e.FD)
		if set == nil {
			return nil
		}
		pc.byData = map[uint64]int{}
		fds := make([]int, 0, len(set.entries))
		for fd := range set.entries {
			fds = append(fds, fd)
		}
		slices.Sort(fds) // in order: the first socket of the lesson is the wait's
		for _, fd := range fds {
			en := set.entries[fd]
			ino, isSock := m.k.inode(pid, fd)
			if isSock != (en.ino != 0) || isSock && ino != en.ino {
				delete(set.entries, fd) // closed (the kernel dropped it) or another file now
				continue
			}
			w := trace.Wait{FD: fd, Read: en.events&pollIn != 0, Write: en.events&pollOut != 0}
			consider(&w, ino, isSock)
			pc.waits = append(pc.waits, w)
			pc.byData[en.data] = fd
		}
	} else {
		for i := range pc.waits {
			ino, isSock := m.k.inode(pid, pc.waits[i].FD)
			consider(&pc.waits[i], ino, isSock)
		}
	}
	if sock == nil && heldSock == nil {
		return nil // none of the lesson's sockets: not shown
	}
	if sock == nil {
		// Only sockets whose role is not known yet (a datagram server's
		// before its first datagram, a socket registered before its
		// connect): kept with the first, shown if it is.
		sock = heldSock
	}
	pc.sock, pc.v6 = sock, sock.family == afInet6
	e.Kind, e.Waits = sock.kind, pc.waits
	if e.Timeout == 0 {
		// It only looks: no Begin; its End, if something was ready.
		e.Nonblock, pc.look = true, true
		return pc
	}
	pc.show = sock.state != held
	return pc
}

// enterEpollCtl is the entry of an epoll_ctl: the set learns the change
// (at the exit, when it is shown), and the call is shown when its
// descriptor is a socket of the lesson.
func (m *model) enterEpollCtl(pc *pending) *pending {
	e, a, pid := &pc.e, pc.args, pc.p.pid
	fd, op := int(int32(a[2])), int(a[1])
	var events uint32
	var data uint64
	if op != epollCtlDel {
		events, data = m.epollEventAt(pid, a[3])
	}
	e.Command = map[int]string{epollCtlAdd: "EPOLL_CTL_ADD", epollCtlDel: "EPOLL_CTL_DEL", epollCtlMod: "EPOLL_CTL_MOD"}[op]
	w := trace.Wait{FD: fd, Read: events&pollIn != 0, Write: events&pollOut != 0, Remove: op == epollCtlDel}
	ino, isSock := m.k.inode(pid, fd)
	var s *socket
	if isSock {
		if s = m.socks[ino]; s == nil {
			s = m.adopt(pc.p, fd, ino)
		}
		w.Socket, w.Listens = true, s.listening
	}
	e.Waits = []trace.Wait{w}
	pc.waits, pc.ctl = e.Waits, epollEntry{events: events, data: data, ino: ino}
	set := m.setOf(pc.p, e.FD)
	if set == nil {
		set = &epollSet{entries: map[int]epollEntry{}}
		m.setsOf(pc.p.pid)[e.FD] = set
	}
	if s == nil || s.state == noise && !m.all {
		change(set, op, fd, events, data, ino) // not shown: learned now
		return nil
	}
	pc.sock, pc.v6, e.Kind = s, s.family == afInet6, s.kind
	if create := set.create; create != nil && s.state == shown {
		// The set's epoll_create, shown with its first socket of the
		// lesson (a held one, as asyncio's self-pipe, may never be).
		set.create = nil
		peer := m.peerOf(create.p, s.role)
		peer.Begin(&create.begin)
		peer.EndMeasured(&create.end, create.elapsed)
		m.counted(create.p)
	}
	pc.show = s.state == shown
	return pc
}

// counted counts a shown event of p's.
func (m *model) counted(p *process) {
	p.shown++
	m.shown[p.program]++
}

// setsOf returns process pid's epoll sets.
func (m *model) setsOf(pid int) map[int]*epollSet {
	sets := m.epolls[pid]
	if sets == nil {
		sets = map[int]*epollSet{}
		m.epolls[pid] = sets
	}
	return sets
}

// change applies an epoll_ctl to the set.
func change(set *epollSet, op, fd int, events uint32, data, ino uint64) {
	switch op {
	case epollCtlAdd, epollCtlMod:
		set.entries[fd] = epollEntry{events: events, data: data, ino: ino}
	case epollCtlDel:
		delete(set.entries, fd)
	}
}

// exitWait is the exit of a wait call.
func (m *model) exitWait(pc *pending, ret int64, elapsed time.Duration) {
	e, a, pid := &pc.e, pc.args, pc.p.pid
	ok := ret >= 0
	switch pc.c.op {
	case trace.OpEpollCreate:
		if ok {
			e.Ret = int(ret)
			begin := *e
			begin.Phase, begin.Ret = trace.Begin, 0
			m.setsOf(pid)[int(ret)] = &epollSet{entries: map[int]epollEntry{},
				create: &heldCall{p: pc.p, begin: begin, end: *e, elapsed: elapsed}}
		}
		return
	case trace.OpEpollCtl:
		if set := m.setOf(pc.p, e.FD); ok && set != nil {
			change(set, int(a[1]), pc.waits[0].FD, pc.ctl.events, pc.ctl.data, pc.ctl.ino)
		}
	case trace.OpPoll:
		e.Waits = nil
		if ok {
			e.Waits = m.ready(pc)
		}
		if pc.look && ok && ret == 0 {
			return // looked, found nothing
		}
	}
	s := pc.sock
	if pc.look && s.state != held {
		begin := *e
		begin.Phase, begin.Ret, begin.Waits = trace.Begin, 0, pc.waits
		m.peerOf(pc.p, s.role).Begin(&begin)
		m.counted(pc.p)
		pc.show = true
	}
	if pc.show {
		m.peerOf(pc.p, s.role).EndMeasured(e, elapsed)
		return
	}
	if s.state == held {
		begin := *e
		begin.Phase, begin.Ret, begin.Waits = trace.Begin, 0, pc.waits
		s.held = append(s.held, heldCall{p: pc.p, begin: begin, end: *e, elapsed: elapsed})
	}
}

// ready returns the descriptors a wait found ready, as the kernel wrote
// them back.
func (m *model) ready(pc *pending) []trace.Wait {
	a, pid := pc.args, pc.p.pid
	var ready []trace.Wait
	for i, f := range pc.c.args {
		switch f {
		case pollFDs:
			ready = m.pollfds(pid, a[i], a[i+1], true)
		case fdSets:
			ready = m.fdsets(pid, a[i:i+4])
		case postEpollEvents:
			n := int(min(uint64(pc.e.Ret), a[i+1], 1024))
			size := m.epollEventSize
			b := make([]byte, n*size)
			got, _ := m.mem.read(pid, a[i], b)
			for j := 0; j+size <= got; j += size {
				ev := binary.LittleEndian.Uint32(b[j:])
				data := binary.LittleEndian.Uint64(b[j+size-8:])
				fd, known := pc.byData[data]
				if !known {
					fd = m.fdOfData(pc, data)
				}
				ready = append(ready, readyWait(fd, ev))
			}
		}
	}
	for i := range ready {
		for _, w := range pc.waits {
			if w.FD == ready[i].FD {
				ready[i].Socket, ready[i].Listens = w.Socket, w.Listens
			}
		}
	}
	return ready
}

// fdOfData finds the descriptor whose data word an epoll wait returned
// when it was not in the set at the wait's entry (another thread added
// it meanwhile): -1 when the set does not say.
func (m *model) fdOfData(pc *pending, data uint64) int {
	if set := m.setOf(pc.p, pc.e.FD); set != nil {
		for fd, en := range set.entries {
			if en.data == data {
				return fd
			}
		}
	}
	return -1
}

func readyWait(fd int, ev uint32) trace.Wait {
	return trace.Wait{FD: fd, Read: ev&pollIn != 0, Write: ev&pollOut != 0,
		Hangup: ev&(pollHup|pollRdHup) != 0, Error: ev&pollErr != 0}
}

// pollfds decodes poll's array of n struct pollfd at addr: what each
// descriptor is waited for, or (revents) what it became ready for.
func (m *model) pollfds(pid int, addr, n uint64, revents bool) []trace.Wait {
	if addr == 0 || n == 0 || n > 4096 {
		return nil
	}
	b := make([]byte, 8*n)
	got, _ := m.mem.read(pid, addr, b)
	var ws []trace.Wait
	for j := 0; j+8 <= got; j += 8 {
		fd := int(int32(binary.LittleEndian.Uint32(b[j:])))
		ev := uint32(binary.LittleEndian.Uint16(b[j+4:]))
		if revents {
			ev = uint32(binary.LittleEndian.Uint16(b[j+6:]))
			if ev == 0 {
				continue
			}
			ws = append(ws, readyWait(fd, ev))
			continue
		}
		if fd >= 0 {
			ws = append(ws, trace.Wait{FD: fd, Read: ev&pollIn != 0, Write: ev&pollOut != 0})
		}
	}
	return ws
}

// fdsets decodes select's nfds and its read, write and except sets.
func (m *model) fdsets(pid int, a []uint64) []trace.Wait {
	nfds := int(min(int32(a[0]), 1024))
	if nfds <= 0 {
		return nil
	}
	size := (nfds + 63) / 64 * 8
	var sets [3][]byte
	for k := range sets {
		if a[k+1] == 0 {
			continue
		}
		sets[k] = make([]byte, size)
		if got, _ := m.mem.read(pid, a[k+1], sets[k]); got < size {
			sets[k] = nil
		}
	}
	in := func(set []byte, fd int) bool { return set != nil && set[fd/8]&(1<<(fd%8)) != 0 }
	var ws []trace.Wait
	for fd := 0; fd < nfds; fd++ {
		w := trace.Wait{FD: fd, Read: in(sets[0], fd), Write: in(sets[1], fd), Error: in(sets[2], fd)}
		if w.Read || w.Write || w.Error {
			ws = append(ws, w)
		}
	}
	return ws
}

// timeoutAt reads a struct timespec (or timeval) timeout at addr, shown
// as strace does; NULL is for ever.
func (m *model) timeoutAt(pid int, addr uint64, timeval bool) (string, time.Duration) {
	if addr == 0 {
		return "NULL", -1
	}
	b := make([]byte, 16)
	if n, _ := m.mem.read(pid, addr, b); n < 16 {
		return "?", -1
	}
	sec, frac := int64(binary.LittleEndian.Uint64(b)), int64(binary.LittleEndian.Uint64(b[8:]))
	if timeval {
		return "{tv_sec=" + strconv.FormatInt(sec, 10) + ", tv_usec=" + strconv.FormatInt(frac, 10) + "}",
			time.Duration(sec)*time.Second + time.Duration(frac)*time.Microsecond
	}
	return "{tv_sec=" + strconv.FormatInt(sec, 10) + ", tv_nsec=" + strconv.FormatInt(frac, 10) + "}",
		time.Duration(sec)*time.Second + time.Duration(frac)
}

// epollEventAt reads a struct epoll_event: its events and data word.
func (m *model) epollEventAt(pid int, addr uint64) (uint32, uint64) {
	size := m.epollEventSize
	b := make([]byte, size)
	if n, _ := m.mem.read(pid, addr, b); addr == 0 || n < size {
		return 0, 0
	}
	return binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint64(b[size-8:])
}

// forget drops descriptor fd, closed, from p's epoll sets: the kernel
// drops a closed file from every set.
func (m *model) forget(p *process, fd int) {
	for _, set := range m.epolls[p.pid] {
		delete(set.entries, fd)
	}
}

// noteQueue says, on the Begin of a blocking accept or read, what the
// kernel already holds for it (Event.Queued), when the kernel's view is
// asked for: a listener's accept queue, the bytes waiting.
func (m *model) noteQueue(pc *pending) {
	e, s := &pc.e, pc.sock
	if !m.kernelState || e.Nonblock || s.kind == "unix" || s.kind == "" {
		return
	}
	switch {
	case e.Op == trace.OpAccept && s.listening:
	case (e.Op == trace.OpRead || e.Op == trace.OpRecvfrom) && !s.listening:
	default:
		return
	}
	e.Queued, e.QueueKnown = m.k.queued(pc.p.pid, e.FD, s.listening)
}

// learnedConnect is the moment a program learns how its non-blocking
// connect ended (SO_ERROR, or its first write or read): connected, it is
// step 7 (Event.Connected).
func (m *model) learnedConnect(s *socket, e *trace.Event, connected bool) {
	if s == nil || !s.connecting {
		return
	}
	s.connecting = false
	e.Connected = connected
}
