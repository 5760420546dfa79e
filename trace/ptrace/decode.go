package ptrace

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Decoding what a call's arguments point to in the traced program's
// memory: socket addresses, and the msghdr and iovec arrays of
// sendmsg/recvmsg/readv/writev. The layouts are Linux's on 64-bit
// little-endian machines (amd64, arm64), the only ones traced.

const (
	afUnix  = 1
	afInet  = 2
	afInet6 = 10

	sockStream   = 1
	sockDgram    = 2
	sockNonblock = 0o4000
	sockCloexec  = 0o2000000
	sockTypeMask = 0xf
)

// sockaddr decodes a struct sockaddr of len bytes: "127.0.0.1:1234",
// "[::1]:1234", a Unix path, or "@name" for an abstract Unix address (as
// ss shows it). It returns "" for what it cannot decode.
func sockaddr(b []byte) string {
	if len(b) < 2 {
		return ""
	}
	switch binary.LittleEndian.Uint16(b) {
	case afInet:
		if len(b) < 8 {
			return ""
		}
		port := binary.BigEndian.Uint16(b[2:])
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), port).String()
	case afInet6:
		if len(b) < 24 {
			return ""
		}
		port := binary.BigEndian.Uint16(b[2:])
		addr := netip.AddrFrom16([16]byte(b[8:24]))
		if len(b) >= 28 {
			if scope := binary.LittleEndian.Uint32(b[24:]); scope != 0 && addr.IsLinkLocalUnicast() {
				addr = addr.WithZone(strconv.FormatUint(uint64(scope), 10))
			}
		}
		return netip.AddrPortFrom(addr, port).String()
	case afUnix:
		path := b[2:]
		if len(path) == 0 {
			return "(unnamed)"
		}
		if path[0] == 0 { // abstract: every byte counts, none ends it
			return "@" + escapeName(path[1:])
		}
		if i := strings.IndexByte(string(path), 0); i >= 0 {
			path = path[:i]
		}
		return escapeName(path)
	}
	return ""
}

// escapeName shows a Unix socket's name with control bytes escaped: the
// name comes from the traced program, which is not to be trusted with the
// terminal.
func escapeName(b []byte) string {
	s := strconv.Quote(string(b))
	if s[1:len(s)-1] == string(b) {
		return string(b)
	}
	return s
}

// familyOf is the address family a sockaddr starts with.
func familyOf(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	return int(binary.LittleEndian.Uint16(b))
}

// port returns the port of an AF_INET or AF_INET6 address, or -1.
func port(b []byte) int {
	switch familyOf(b) {
	case afInet, afInet6:
		if len(b) >= 4 {
			return int(binary.BigEndian.Uint16(b[2:]))
		}
	}
	return -1
}

var familyNames = map[int]string{afUnix: "AF_UNIX", afInet: "AF_INET", afInet6: "AF_INET6", 16: "AF_NETLINK", 17: "AF_PACKET"}

var typeNames = map[int]string{sockStream: "SOCK_STREAM", sockDgram: "SOCK_DGRAM", 3: "SOCK_RAW", 5: "SOCK_SEQPACKET"}

// socketArgs shows socket(2)'s arguments as strace does:
// "AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP".
func socketArgs(family, typ, proto int) string {
	f := familyNames[family]
	if f == "" {
		f = strconv.Itoa(family)
	}
	t := typeNames[typ&sockTypeMask]
	if t == "" {
		t = strconv.Itoa(typ & sockTypeMask)
	}
	if typ&sockCloexec != 0 { // in strace's order
		t += "|SOCK_CLOEXEC"
	}
	if typ&sockNonblock != 0 {
		t += "|SOCK_NONBLOCK"
	}
	p := strconv.Itoa(proto)
	switch {
	case proto == 0 && (family == afInet || family == afInet6):
		p = "IPPROTO_IP"
	case proto == 6:
		p = "IPPROTO_TCP"
	case proto == 17:
		p = "IPPROTO_UDP"
	case proto == 262:
		p = "IPPROTO_MPTCP"
	}
	return f + ", " + t + ", " + p
}

// kindOf is the lesson's name for a socket of this family and type:
// "tcp", "udp", "unix", or "" for the rest (netlink, raw, …).
func kindOf(family, typ int) string {
	switch {
	case family == afUnix:
		return "unix"
	case (family == afInet || family == afInet6) && typ&sockTypeMask == sockStream:
		return "tcp"
	case (family == afInet || family == afInet6) && typ&sockTypeMask == sockDgram:
		return "udp"
	}
	return ""
}

// An iovec is one buffer of a scatter/gather call.
type iovec struct{ base, len uint64 }

// iovecs decodes an array of struct iovec (16 bytes each).
func iovecs(b []byte) []iovec {
	v := make([]iovec, 0, len(b)/16)
	for ; len(b) >= 16; b = b[16:] {
		v = append(v, iovec{binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])})
	}
	return v
}

// msghdrSize is sizeof(struct msghdr) on 64-bit Linux.
const msghdrSize = 56

// A msghdr is the part of struct msghdr socklab reads: the address (for
// sendto-like sendmsg and recvfrom-like recvmsg) and the buffers.
type msghdr struct {
	name    uint64
	namelen uint32
	iov     uint64
	iovlen  uint64
}

func decodeMsghdr(b []byte) (msghdr, bool) {
	if len(b) < msghdrSize {
		return msghdr{}, false
	}
	le := binary.LittleEndian
	return msghdr{name: le.Uint64(b), namelen: le.Uint32(b[8:]), iov: le.Uint64(b[16:]), iovlen: le.Uint64(b[24:])}, true
}

// shutdownHow shows shutdown(2)'s second argument.
func shutdownHow(how uint64) string {
	switch how {
	case 0:
		return "SHUT_RD"
	case 1:
		return "SHUT_WR"
	case 2:
		return "SHUT_RDWR"
	}
	return fmt.Sprint(how)
}

// Options setsockopt shows by name: the ones the lessons teach.
var sockoptNames = map[[2]uint64]string{
	{1, 2}:   "SOL_SOCKET, SO_REUSEADDR",
	{1, 15}:  "SOL_SOCKET, SO_REUSEPORT",
	{1, 13}:  "SOL_SOCKET, SO_LINGER",
	{1, 20}:  "SOL_SOCKET, SO_RCVTIMEO_OLD",
	{1, 66}:  "SOL_SOCKET, SO_RCVTIMEO_NEW",
	{1, 9}:   "SOL_SOCKET, SO_KEEPALIVE",
	{1, 7}:   "SOL_SOCKET, SO_SNDBUF",
	{1, 8}:   "SOL_SOCKET, SO_RCVBUF",
	{6, 1}:   "IPPROTO_TCP, TCP_NODELAY",
	{41, 26}: "IPPROTO_IPV6, IPV6_V6ONLY",
}

func sockoptArgs(level, name uint64) string {
	if s := sockoptNames[[2]uint64{level, name}]; s != "" {
		return s
	}
	return fmt.Sprintf("%d, %d", level, name)
}

// sockoptName is the option's name alone ("SO_REUSEADDR"), or "" when
// the table does not know it.
func sockoptName(level, name uint64) string {
	s := sockoptNames[[2]uint64{level, name}]
	if i := strings.LastIndex(s, ", "); i >= 0 {
		return s[i+2:]
	}
	return s
}
