package kernelview

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

func sysTCPState(fd int) (string, bool) {
	info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return "", false
	}
	name := linuxStateName(int(info.State))
	return name, name != ""
}

// sysDelivery returns the socket's state and how many of the segments it
// sent wait for an acknowledgement.
func sysDelivery(fd int) (state string, unacked int, ok bool) {
	info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return "", 0, false
	}
	return linuxStateName(int(info.State)), int(info.Unacked), true
}

// userHZ is the unit of the timers in /proc/net/tcp: clock ticks.
const userHZ = 100

// procTable is /proc/net/tcp or tcp6, opened and not yet read.
type procTable struct{ f *os.File }

// sysOpenTCPTable opens the kernel's TCP table of one family.
func sysOpenTCPTable(v6 bool) tcpTable {
	// /proc/net is /proc/self/net: the network namespace of the process's
	// first thread. The calling thread's is the one its sockets live in
	// (a namespace is a thread's, and the benchmarks give one thread a
	// namespace of its own); for a program, they are the same.
	name := "tcp"
	if v6 {
		name = "tcp6"
	}
	f, err := os.Open("/proc/thread-self/net/" + name)
	if err != nil {
		// Before Linux 3.17, no thread-self.
		if f, err = os.Open("/proc/net/" + name); err != nil {
			return nil
		}
	}
	return procTable{f}
}

// read reads the whole table in as few read calls as it can: the kernel
// makes the text as it goes, and between two reads the table may change,
// so small reads could show one socket before a change and its peer after
// it, or skip a row. One large read is one pass over the table.
func (t procTable) read() ([]tableEntry, bool) {
	bp := tableBuffers.Get().(*[]byte)
	defer tableBuffers.Put(bp)
	buf := *bp
	for {
		n, err := io.ReadFull(t.f, buf)
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return parseProcNetTCP(buf[:n]), true
		}
		if err != nil {
			return nil, false
		}
		// The table is larger than the buffer: start again with more room.
		if _, err := t.f.Seek(0, io.SeekStart); err != nil {
			return nil, false
		}
		buf = make([]byte, 2*len(buf))
		*bp = buf
	}
}

// tableBuffers keeps the large buffers the table is read into, so that a
// run with many closes does not make a new megabyte for each.
var tableBuffers = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

func (t procTable) close() { t.f.Close() }

// parseProcNetTCP parses lines like
//
//	0: 0100007F:B50E 0100007F:B429 06 00000000:00000000 03:0000176B 00000000 0 0 0 3 …
//
// local and remote address (hex, in the kernel's byte order), state (hex),
// queues, then the timer: its kind and the ticks left.
func parseProcNetTCP(data []byte) []tableEntry {
	var entries []tableEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Scan() // the header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 {
			continue
		}
		local, ok1 := parseProcAddr(f[1])
		remote, ok2 := parseProcAddr(f[2])
		st, err := strconv.ParseUint(f[3], 16, 8)
		if !ok1 || !ok2 || err != nil {
			continue
		}
		e := tableEntry{local: local, remote: remote, state: linuxStateName(int(st))}
		if kind, left, ok := strings.Cut(f[5], ":"); ok && kind == "03" { // the TIME_WAIT timer
			if ticks, err := strconv.ParseUint(left, 16, 32); err == nil {
				e.timer = time.Duration(ticks) * time.Second / userHZ
			}
		}
		entries = append(entries, e)
	}
	return entries
}

// parseProcAddr parses 0100007F:B50E (IPv4) or a 32-digit IPv6 address, each
// 32-bit word in host byte order, and a port in hex.
func parseProcAddr(s string) (netip.AddrPort, bool) {
	host, port, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, false
	}
	raw, err := hex.DecodeString(host)
	p, err2 := strconv.ParseUint(port, 16, 16)
	if err != nil || err2 != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, false
	}
	// The kernel printed each 4-byte word of the address (kept in network
	// order) as a host-order integer: read the integer back, store it in
	// host order, and the network-order bytes are back.
	for i := 0; i < len(raw); i += 4 {
		binary.NativeEndian.PutUint32(raw[i:], binary.BigEndian.Uint32(raw[i:]))
	}
	var addr netip.Addr
	if len(raw) == 4 {
		addr = netip.AddrFrom4([4]byte(raw))
	} else {
		addr = netip.AddrFrom16([16]byte(raw)).Unmap()
	}
	return netip.AddrPortFrom(addr, uint16(p)), true
}
