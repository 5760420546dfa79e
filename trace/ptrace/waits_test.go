package ptrace

import (
	"encoding/binary"
	"slices"
	"testing"

	"github.com/socklab/socklab/trace"
)

// packedEpollEvent is a struct epoll_event as amd64 lays it out (packed).
func packedEpollEvent(events uint32, data uint64) []byte {
	b := make([]byte, 12)
	binary.LittleEndian.PutUint32(b, events)
	binary.LittleEndian.PutUint64(b[4:], data)
	return b
}

// A selectors server: its epoll set is shown once its listener is added
// (epoll_create first), its epoll_wait names the set's sockets and what
// became ready (found from the data word the program registered), a
// look (timeout 0) that found nothing is not shown, and a closed
// descriptor leaves the set.
func TestModelEpollServer(t *testing.T) {
	w := newWorld(t, false, false)
	p := w.launch(100, "")
	ln := w.socket(p, afInet, sockStream|sockCloexec, 0)
	w.bind(p, ln, "127.0.0.1:8080")
	w.listen(p, ln)
	w.call(p, named("epoll_create1"), [6]uint64{sockCloexec}, 9, nil)
	if n := len(w.events()); n != 6 {
		t.Fatalf("epoll_create1 shown before a socket is in its set: %d events\n%s", n, lines(w.events()))
	}
	ev := w.mem.put(packedEpollEvent(pollIn, 0xabc))
	w.call(p, named("epoll_ctl"), [6]uint64{9, epollCtlAdd, uint64(ln), ev}, 0, nil)
	out := w.mem.put(make([]byte, 12*4))
	look := func(ret int64) {
		w.call(p, named("epoll_wait"), [6]uint64{9, out, 4, 0}, ret, nil)
	}
	look(0) // found nothing: not shown
	w.mem.regions[out] = append(packedEpollEvent(pollIn, 0xabc), make([]byte, 36)...)
	w.call(p, named("epoll_wait"), [6]uint64{9, out, 4, ^uint64(0)}, 1, nil)
	events := w.events()[6:]
	wantBriefs(t, events,
		"server 0 epoll_create begin epoll_create1(-1)=0",
		"server 0 epoll_create end epoll_create1(-1)=9",
		"server 0 epoll_ctl begin epoll_ctl(9)=0",
		"server 0 epoll_ctl end epoll_ctl(9)=0",
		"server 0 poll begin epoll_wait(9)=0",
		"server 0 poll end epoll_wait(9)=1",
	)
	if len(events) != 6 {
		return
	}
	want := []trace.Wait{{FD: ln, Read: true, Socket: true, Listens: true}}
	for i, e := range events[2:] {
		if !slices.Equal(e.Waits, want) {
			t.Errorf("event %d: waits %+v, want %+v", i+2, e.Waits, want)
		}
	}
	if e := events[2]; e.Command != "EPOLL_CTL_ADD" {
		t.Errorf("epoll_ctl's command %q", e.Command)
	}
	if e := events[4]; e.Timeout != -1 || e.Arg != "-1" || e.Nonblock {
		t.Errorf("epoll_wait Begin: timeout %v arg %q nonblock %v", e.Timeout, e.Arg, e.Nonblock)
	}
	// A look that found something is shown, Begin and End, non-blocking.
	look(1)
	if e := w.events()[len(w.events())-1]; e.Op != trace.OpPoll || !e.Nonblock || len(e.Waits) != 1 {
		t.Errorf("a look that found a connection: %s nonblock %v waits %+v", brief(e), e.Nonblock, e.Waits)
	}
	// The listener closed: the set is empty, and a wait on it not shown.
	w.close(p, ln)
	n := len(w.events())
	w.call(p, named("epoll_wait"), [6]uint64{9, out, 4, ^uint64(0)}, 0, nil)
	if len(w.events()) != n {
		t.Errorf("a wait on an empty set is shown: %s", lines(w.events()[n:]))
	}
}

// A settimeout client: FIONBIO makes the socket non-blocking (its later
// calls say so), connect's EINPROGRESS is step 5, the poll for writable
// names the socket, and getsockopt(SO_ERROR) = 0 is step 7 (Connected);
// another level's getsockopt is not traced.
func TestModelSettimeoutClient(t *testing.T) {
	w := newWorld(t, false, false)
	p := w.launch(200, trace.Client)
	fd := w.socket(p, afInet, sockStream|sockCloexec, 0)
	one := w.mem.put([]byte{1, 0, 0, 0})
	w.call(p, named("ioctl"), [6]uint64{uint64(fd), fionbio, one}, 0, nil)
	w.connect(p, fd, "127.0.0.1:8080", "127.0.0.1:40000", -115)
	pfd := make([]byte, 8)
	binary.LittleEndian.PutUint32(pfd, uint32(fd))
	binary.LittleEndian.PutUint16(pfd[4:], pollOut)
	arr := w.mem.put(pfd)
	w.call(p, named("poll"), [6]uint64{arr, 1, 5000}, 1, func() { binary.LittleEndian.PutUint16(pfd[6:], pollOut) })
	val := w.mem.put([]byte{0, 0, 0, 0})
	vlen := w.mem.put([]byte{4, 0, 0, 0})
	if pc := w.call(p, named("getsockopt"), [6]uint64{uint64(fd), 6, soError, val, vlen}, 0, nil); pc != nil {
		t.Errorf("getsockopt(IPPROTO_TCP, 4) is traced")
	}
	w.call(p, named("getsockopt"), [6]uint64{uint64(fd), solSocketLevel, soError, val, vlen}, 0, nil)
	wantBriefs(t, w.events(),
		"client 4 create begin socket(-1)=0",
		"client 4 create end socket(3)=3",
		"client 0 ioctl begin ioctl(3)=0",
		"client 0 ioctl end ioctl(3)=0",
		"client 5 connect begin connect(3)=0",
		"client 5 connect end connect(3)=-1",
		"client 0 poll begin poll(-1)=0",
		"client 0 poll end poll(-1)=1",
		"client 0 getsockopt begin getsockopt(3)=0",
		"client 7 getsockopt end getsockopt(3)=0",
	)
	events := w.events()
	if len(events) != 10 {
		return
	}
	if e := events[3]; e.Command != "FIONBIO" || e.Value != 1 || e.Arg != "FIONBIO, [1]" {
		t.Errorf("ioctl: command %q value %d arg %q", e.Command, e.Value, e.Arg)
	}
	if e := events[4]; !e.Nonblock {
		t.Errorf("connect after FIONBIO is not non-blocking")
	}
	want := []trace.Wait{{FD: fd, Write: true, Socket: true}}
	if e := events[6]; !slices.Equal(e.Waits, want) || e.Arg != "5000" || e.Timeout.Milliseconds() != 5000 {
		t.Errorf("poll Begin: waits %+v arg %q timeout %v", e.Waits, e.Arg, e.Timeout)
	}
	if e := events[7]; !slices.Equal(e.Waits, want) {
		t.Errorf("poll End: ready %+v, want %+v", e.Waits, want)
	}
	if e := events[9]; !e.Connected || e.Option != "SO_ERROR" || e.Value != 0 || e.Arg != "SOL_SOCKET, SO_ERROR, [0]" {
		t.Errorf("getsockopt End: connected %v option %q value %d arg %q", e.Connected, e.Option, e.Value, e.Arg)
	}
	// Asked again, SO_ERROR is no new step.
	w.call(p, named("getsockopt"), [6]uint64{uint64(fd), solSocketLevel, soError, val, vlen}, 0, nil)
	if e := w.events()[len(w.events())-1]; e.Connected || e.Step != 0 {
		t.Errorf("a second SO_ERROR: connected %v step %d", e.Connected, e.Step)
	}
}

// A program that never asks SO_ERROR learns the connection from its first
// write that moves bytes: that write's End is step 7; an EAGAIN before it
// is not.
func TestModelConnectedByFirstWrite(t *testing.T) {
	w := newWorld(t, false, false)
	p := w.launch(200, trace.Client)
	fd := w.socket(p, afInet, sockStream|sockNonblock, 0)
	w.connect(p, fd, "127.0.0.1:8080", "127.0.0.1:40000", -115)
	w.write(p, callWrite, fd, "hi", -11)
	w.write(p, callWrite, fd, "hi", 2)
	w.write(p, callWrite, fd, "hi", 2)
	var steps []int
	for _, e := range w.events() {
		if e.Op == trace.OpWrite && e.Phase == trace.End {
			steps = append(steps, e.Step)
		}
	}
	if !slices.Equal(steps, []int{9, 7, 9}) {
		t.Errorf("the writes' steps %v, want 9 (EAGAIN), 7 (connected), 9", steps)
	}
}

// A wait on a socket whose role is not known yet is kept with it, and
// shown, in its place, once the socket says what it is for.
func TestModelWaitHeldUntilRoleKnown(t *testing.T) {
	w := newWorld(t, false, false)
	p := w.launch(300, "")
	fd := w.socket(p, afInet, sockDgram, 0)
	pfd := make([]byte, 8)
	binary.LittleEndian.PutUint32(pfd, uint32(fd))
	binary.LittleEndian.PutUint16(pfd[4:], pollOut)
	arr := w.mem.put(pfd)
	w.call(p, named("poll"), [6]uint64{arr, 1, 1000}, 1, func() { binary.LittleEndian.PutUint16(pfd[6:], pollOut) })
	if n := len(w.events()); n != 0 {
		t.Fatalf("a held socket's wait shown at once: %s", lines(w.events()))
	}
	to, n := w.addr(inet4("127.0.0.1:9999"))
	data := w.mem.put([]byte("hi"))
	w.call(p, callSendto, [6]uint64{uint64(fd), data, 2, 0, to, n}, 2, nil)
	wantBriefs(t, w.events(),
		"client 4 create begin socket(-1)=0",
		"client 4 create end socket(3)=3",
		"client 0 poll begin poll(-1)=0",
		"client 0 poll end poll(-1)=1",
		"client 9 sendto begin sendto(3)=0",
		"client 9 sendto end sendto(3)=2",
	)
	if events := w.events(); len(events) == 6 && (len(events[2].Waits) != 1 || !events[2].Waits[0].Write || len(events[3].Waits) != 1) {
		t.Errorf("the held poll's waits: begin %+v end %+v", events[2].Waits, events[3].Waits)
	}
}
