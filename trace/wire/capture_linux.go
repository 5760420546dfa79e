package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/socklab/socklab/trace"
)

// A Capture reads the run's packets on loopback. Its methods are safe for
// concurrent use.
type Capture struct {
	fd int
	tr *trace.Tracer

	mu      sync.Mutex
	ports   []uint16 // watched, in the order they became known
	dec     *decoder
	packets timeline // read, not yet handed over
	// offset is the wall clock's reading, in nanoseconds, when the trace
	// started: a kernel stamp less offset is the trace's time.
	offset int64
	// Whose sockets have which addresses: a local address alone (a
	// listening socket's, a client's once connected), or a connection's
	// local and remote addresses (an accepted socket's).
	owners map[string]owner
	conns  map[[2]string]owner
	// connecting holds, by the address they connect to, the peers whose
	// connect is in flight: a SYN from an address not known yet is one of
	// theirs, and when only one is in flight, it is known whose.
	connecting map[string][]owner
	// connected holds the connects that returned since the last Until.
	connected []connectEnd
	// asked holds our own descriptors whose address the capture asked
	// the kernel for (a client that never bound): once is enough.
	asked map[int]bool
	sum   Summary
	frame []byte
	oob   []byte

	// wake is an eventfd that Close writes to, so that the reader's poll
	// returns at once rather than at its next timeout.
	wake int
	stop chan struct{}
	done chan struct{}
}

// A connectEnd is a connect that returned: to where, and whose.
type connectEnd struct {
	to  string
	who owner
}

type owner struct {
	peer string
	role trace.Role
}

// frameSize holds the largest frame loopback carries (its MTU is 65,536)
// and its Ethernet header.
const frameSize = 65536 + 14 + 256

// Open starts a capture on loopback for tr's run and makes it tr's wire
// (see [trace.Tracer.SetWire]). It returns once packet stamps are live;
// nothing is watched until the run binds or connects. Close it when the
// run is over, to hand over the last packets and free the socket.
func Open(tr *trace.Tracer) (*Capture, error) {
	lo, err := loopback()
	if err != nil {
		return nil, err
	}
	// Protocol 0 receives nothing: the filter is in place before the
	// socket is bound and the first frame comes.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return nil, ErrNotPermitted
	}
	if err != nil {
		return nil, fmt.Errorf("wire: socket(AF_PACKET): %w", err)
	}
	c := &Capture{fd: fd, tr: tr, dec: newDecoder(), owners: map[string]owner{}, conns: map[[2]string]owner{}, connecting: map[string][]owner{}, asked: map[int]bool{},
		frame: make([]byte, frameSize), oob: make([]byte, 256), stop: make(chan struct{}), done: make(chan struct{})}
	if err := c.setup(lo); err != nil {
		unix.Close(fd)
		return nil, err
	}
	c.wake, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("wire: eventfd: %w", err)
	}
	c.offset = c.calibrate()
	tr.SetWire(c)
	go c.read()
	return c, nil
}

// loopback returns the loopback interface's index.
func loopback() (int, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return 0, fmt.Errorf("wire: %w", err)
	}
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback != 0 && i.Flags&net.FlagUp != 0 {
			return i.Index, nil
		}
	}
	return 0, errors.New("wire: no loopback interface is up")
}

// setup stamps, buffers, binds the socket to loopback, and warms the
// stamps up.
func (c *Capture) setup(lo int) error {
	if err := unix.SetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		return fmt.Errorf("wire: SO_TIMESTAMPNS: %w", err)
	}
	// A burst of connections (the concurrent lesson) must not overflow
	// the queue while the tracer is busy: 8 MiB where the kernel lets
	// root go past its limit, its limit elsewhere.
	if unix.SetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20) != nil {
		unix.SetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 8<<20)
	}
	probe, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("wire: %w", err)
	}
	defer unix.Close(probe)
	if err := unix.Bind(probe, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return fmt.Errorf("wire: %w", err)
	}
	sa, err := unix.Getsockname(probe)
	if err != nil {
		return fmt.Errorf("wire: %w", err)
	}
	probeAddr := sa.(*unix.SockaddrInet4)
	if err := c.attach([]uint16{uint16(probeAddr.Port)}); err != nil {
		return err
	}
	if err := unix.Bind(c.fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: lo}); err != nil {
		return fmt.Errorf("wire: bind to loopback: %w", err)
	}
	if err := c.warmUp(probe, probeAddr); err != nil {
		return err
	}
	// Nothing is watched until the run says which ports: drop what the
	// warm-up left in the queue.
	if err := c.attach(nil); err != nil {
		return err
	}
	for {
		if _, _, _, _, err := unix.Recvmsg(c.fd, c.frame, nil, unix.MSG_DONTWAIT); err != nil {
			break
		}
	}
	unix.GetsockoptTpacketStats(c.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS) // reading resets the counts
	return nil
}

// warmUp sends datagrams to itself until one is stamped when it was sent.
//
// The kernel turns packet timestamps on lazily: until it has, a packet is
// stamped when the capture reads it, not when it was sent, and a SYN-ACK
// read late would show after the connect it made return. One datagram
// stamped inside its own send shows the stamps are live.
func (c *Capture) warmUp(probe int, to *unix.SockaddrInet4) error {
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		before := time.Now().UnixNano()
		if err := unix.Sendto(probe, []byte("socklab warm-up"), 0, to); err != nil {
			return fmt.Errorf("wire: warm-up: %w", err)
		}
		after := time.Now().UnixNano()
		fds := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLIN}}
		if n, _ := unix.Poll(fds, 100); n <= 0 {
			continue
		}
		for {
			_, oobn, _, _, err := unix.Recvmsg(c.fd, c.frame, c.oob, unix.MSG_DONTWAIT)
			if err != nil {
				break
			}
			if stamp, ok := stampOf(c.oob[:oobn]); ok && stamp >= before && stamp <= after {
				return nil
			}
		}
		// Read the datagram too, so that the probe's queue stays short.
		unix.Recvfrom(probe, c.frame, unix.MSG_DONTWAIT)
	}
	return errors.New("wire: the kernel's packet timestamps did not come on within 2 s")
}

// calibrate returns the wall clock's reading when the trace started, from
// a few readings bracketed by the tracer's own clock.
func (c *Capture) calibrate() int64 {
	readings := make([]reading, 5)
	for i := range readings {
		before := c.tr.Since()
		var ts unix.Timespec
		unix.ClockGettime(unix.CLOCK_REALTIME, &ts)
		readings[i] = reading{before, c.tr.Since(), ts.Nano()}
	}
	return wallAtStart(readings)
}

// attach makes the kernel's filter watch ports.
func (c *Capture) attach(ports []uint16) error {
	prog, err := filter(ports)
	if err != nil {
		return err
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return fmt.Errorf("wire: %w", err)
	}
	code := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		code[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	if err := unix.SetsockoptSockFprog(c.fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &unix.SockFprog{Len: uint16(len(code)), Filter: &code[0]}); err != nil {
		return fmt.Errorf("wire: attach the filter: %w", err)
	}
	return nil
}

// Observe learns from a call's event which ports to watch and whose
// addresses are whose. See [trace.Wire].
func (c *Capture) Observe(e *trace.Event) {
	if e.Op == trace.OpPacket || e.Kind == "unix" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	who := owner{e.Peer, e.Role}
	if e.Phase == trace.Begin && (e.Op == trace.OpConnect || e.Op == trace.OpSendto) {
		// Before the SYN (or the datagram) goes out.
		c.watch(e.Remote)
	}
	if e.Op == trace.OpConnect && e.Phase == trace.Begin {
		c.connecting[e.Remote] = append(c.connecting[e.Remote], who)
	}
	if e.Op == trace.OpConnect && e.Phase == trace.End {
		// Its SYN was sent while it was in flight, and is read by the
		// Until that follows: the connect is no longer in flight only
		// then (a refused connect's client never learns its port).
		c.connected = append(c.connected, connectEnd{e.Remote, who})
	}
	if e.Phase != trace.End || e.Err != nil {
		return
	}
	local := e.Local
	if (e.Op == trace.OpConnect || e.Op == trace.OpSendto) && local == "" && e.PID == 0 && e.FD >= 0 && !c.asked[e.FD] {
		// A client that never bound gets its port from the kernel in
		// connect (or its first sendto), and learns it with getsockname
		// after; the packets are shown when the call returns, before
		// that: ask the kernel now, for whom they are.
		if sa, err := unix.Getsockname(e.FD); err == nil {
			local = sockaddrString(sa)
			c.asked[e.FD] = true
		}
	}
	if e.Op == trace.OpClose {
		delete(c.asked, e.FD) // the number may come back, for another socket
	}
	switch e.Op {
	case trace.OpBind, trace.OpGetsockname:
		c.watch(local)
	case trace.OpAccept:
		return // the listener's peer: the accepted socket's own calls say whose it is
	}
	if local == "" || strings.HasSuffix(local, ":0") {
		return
	}
	if ap, err := netip.ParseAddrPort(local); err == nil && ap.Addr().IsUnspecified() {
		// Bound to every address (a UDP client's first sendto binds
		// 0.0.0.0): its packets come from loopback's, on its port.
		local = anyAddress(ap.Port())
	}
	if e.Remote != "" {
		c.conns[[2]string{local, e.Remote}] = who
	} else if _, ok := c.owners[local]; !ok || e.Op == trace.OpBind {
		c.owners[local] = who
	}
}

// watch adds addr's port to the filter's.
func (c *Capture) watch(addr string) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || ap.Port() == 0 || slices.Contains(c.ports, ap.Port()) || len(c.ports) == maxPorts {
		return
	}
	c.ports = append(c.ports, ap.Port())
	if c.attach(c.ports) != nil {
		c.ports = c.ports[:len(c.ports)-1]
	}
}

// Until hands over the packets stamped at or before t. See [trace.Wire].
func (c *Capture) Until(t time.Duration, emit func(trace.Event)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drain()
	for _, done := range c.connected {
		in := c.connecting[done.to]
		if i := slices.Index(in, done.who); i >= 0 {
			in = slices.Delete(in, i, i+1)
		}
		if len(in) == 0 {
			delete(c.connecting, done.to)
		} else {
			c.connecting[done.to] = in
		}
	}
	c.connected = c.connected[:0]
	c.sum.Shown += c.packets.until(t, emit)
}

// drain reads every frame queued, into pending.
func (c *Capture) drain() {
	for {
		n, oobn, flags, _, err := unix.Recvmsg(c.fd, c.frame, c.oob, unix.MSG_DONTWAIT)
		if err != nil {
			return
		}
		stamp, ok := stampOf(c.oob[:oobn])
		p, payload, decoded := c.dec.decode(c.frame[:n])
		if !ok || !decoded || flags&unix.MSG_TRUNC != 0 {
			c.sum.Dropped++
			continue
		}
		// One copy of the frame, for a pcapng; the payload is its tail.
		p.Frame, p.Sent = slices.Clone(c.frame[:n]), time.Unix(0, stamp)
		e := trace.Event{Op: trace.OpPacket, Kind: p.Proto, FD: -1, Time: time.Duration(stamp - c.offset), N: len(payload)}
		if len(payload) > 0 {
			e.Data = p.Frame[n-len(payload):]
		}
		if _, known := c.owners[p.From]; !known && p.Flags == "SYN" {
			if in := c.connecting[p.To]; len(in) == 1 {
				c.owners[p.From] = in[0]
			}
		}
		from, to := c.ownerOf(p.From, p.To), c.ownerOf(p.To, p.From)
		e.Peer, e.Role, p.ToPeer = from.peer, from.role, to.peer
		e.Packet = &p
		c.packets.add(e)
	}
}

// ownerOf returns whose socket has addr, talking to other.
func (c *Capture) ownerOf(addr, other string) owner {
	if o, ok := c.conns[[2]string{addr, other}]; ok {
		return o
	}
	if o, ok := c.owners[addr]; ok {
		return o
	}
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		if o, ok := c.conns[[2]string{anyAddress(ap.Port()), other}]; ok {
			return o
		}
		return c.owners[anyAddress(ap.Port())]
	}
	return owner{}
}

// anyAddress is how the capture keys a socket bound to every address.
func anyAddress(port uint16) string { return "*:" + strconv.Itoa(int(port)) }

// flushEvery is how long a packet that no call follows (a delayed ACK,
// the last packets of a teardown) may wait to be shown: long enough that
// a busy run's packets go out with its calls, not each with a wake-up of
// its own, short enough that no one sees the wait.
const flushEvery = 20 * time.Millisecond

// read wakes the tracer when packets come while no call is being made
// (a delayed ACK, the last packets of a teardown).
func (c *Capture) read() {
	defer close(c.done)
	for {
		fds := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLIN}, {Fd: int32(c.wake), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, -1)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return
		}
		if fds[1].Revents != 0 {
			return
		}
		if n > 0 && fds[0].Revents != 0 {
			// Let a burst finish: one handover for many packets.
			select {
			case <-c.stop:
				return
			case <-time.After(flushEvery):
			}
			c.tr.FlushWire()
		}
	}
}

// Close hands over the packets still queued, stops the capture and says
// what it saw.
func (c *Capture) Close() (Summary, error) {
	close(c.stop)
	unix.Write(c.wake, []byte{1, 0, 0, 0, 0, 0, 0, 0})
	<-c.done
	unix.Close(c.wake)
	c.tr.FlushWire()
	c.mu.Lock()
	defer c.mu.Unlock()
	if stats, err := unix.GetsockoptTpacketStats(c.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
		// tp_packets counts the drops too.
		c.sum.Captured = int(stats.Packets)
		c.sum.Dropped += int(stats.Drops)
	}
	c.sum.Dropped += len(c.packets.pending) // stamped after the run's last event: never shown
	c.sum.Watched = len(c.ports)
	if moved := c.calibrate() - c.offset; moved != 0 {
		c.sum.ClockMoved = time.Duration(max(moved, -moved))
	}
	err := unix.Close(c.fd)
	c.fd = -1
	return c.sum, err
}

// stampOf finds the kernel's stamp (SCM_TIMESTAMPNS) in a message's
// control data, in nanoseconds of wall time.
func stampOf(oob []byte) (int64, bool) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return 0, false
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS && len(m.Data) >= 16 {
			sec := int64(binary.NativeEndian.Uint64(m.Data[0:8]))
			nsec := int64(binary.NativeEndian.Uint64(m.Data[8:16]))
			return sec*1e9 + nsec, true
		}
	}
	return 0, false
}

func sockaddrString(sa unix.Sockaddr) string {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)).String()
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port)).String()
	}
	return ""
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
