package ptrace

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"
)

// The encoders below build what a traced program hands the kernel, in
// Linux's 64-bit little-endian layouts; model_test.go uses them too.

// inet4 is a struct sockaddr_in (16 bytes) for addr, like "127.0.0.1:80".
func inet4(addr string) []byte {
	ap := netip.MustParseAddrPort(addr)
	b := make([]byte, 16)
	binary.LittleEndian.PutUint16(b, afInet)
	binary.BigEndian.PutUint16(b[2:], ap.Port())
	a := ap.Addr().As4()
	copy(b[4:], a[:])
	return b
}

// inet6 is a struct sockaddr_in6 (28 bytes) for addr, like "[::1]:80",
// with a scope id.
func inet6(addr string, scope uint32) []byte {
	ap := netip.MustParseAddrPort(addr)
	b := make([]byte, 28)
	binary.LittleEndian.PutUint16(b, afInet6)
	binary.BigEndian.PutUint16(b[2:], ap.Port())
	binary.LittleEndian.PutUint32(b[4:], 0xdeadbeef) // flowinfo: not shown
	a := ap.Addr().As16()
	copy(b[8:], a[:])
	binary.LittleEndian.PutUint32(b[24:], scope)
	return b
}

// unixPath is a struct sockaddr_un for a path as a C program passes it:
// the path, its NUL, and the rest of sun_path's 108 bytes zeroed.
func unixPath(path string) []byte {
	b := make([]byte, 110)
	binary.LittleEndian.PutUint16(b, afUnix)
	copy(b[2:], path)
	return b
}

// unixAbstract is an abstract address: a NUL, then the name, and no more
// (the address's length is part of its name).
func unixAbstract(name string) []byte {
	b := make([]byte, 3+len(name))
	binary.LittleEndian.PutUint16(b, afUnix)
	copy(b[3:], name)
	return b
}

// iovecBytes is an array of struct iovec.
func iovecBytes(v ...iovec) []byte {
	b := make([]byte, 16*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[16*i:], x.base)
		binary.LittleEndian.PutUint64(b[16*i+8:], x.len)
	}
	return b
}

// msghdrBytes is a struct msghdr (56 bytes) naming an address and buffers.
func msghdrBytes(name uint64, namelen uint32, iov, iovlen uint64) []byte {
	b := make([]byte, msghdrSize)
	le := binary.LittleEndian
	le.PutUint64(b, name)
	le.PutUint32(b[8:], namelen)
	le.PutUint32(b[12:], 0xffffffff) // padding: not read
	le.PutUint64(b[16:], iov)
	le.PutUint64(b[24:], iovlen)
	le.PutUint64(b[32:], 0x1234) // msg_control: not read
	le.PutUint64(b[40:], 64)     // msg_controllen
	le.PutUint32(b[48:], 0x40)   // msg_flags
	return b
}

func TestSockaddr(t *testing.T) {
	for _, tt := range []struct {
		name string
		b    []byte
		want string
	}{
		{"inet4", inet4("127.0.0.1:1234"), "127.0.0.1:1234"},
		{"inet4 any", inet4("0.0.0.0:0"), "0.0.0.0:0"},
		{"inet4 high port", inet4("10.1.2.3:65535"), "10.1.2.3:65535"},
		{"inet4 short but whole", inet4("192.168.0.1:80")[:8], "192.168.0.1:80"},
		{"inet6 loopback", inet6("[::1]:8080", 0), "[::1]:8080"},
		{"inet6 v4-mapped", inet6("[::ffff:127.0.0.1]:80", 0), "[::ffff:127.0.0.1]:80"},
		{"inet6 link-local with scope", inet6("[fe80::1]:22", 2), "[fe80::1%2]:22"},
		{"inet6 link-local big scope", inet6("[fe80::1]:22", 70000), "[fe80::1%70000]:22"},
		{"inet6 link-local no scope", inet6("[fe80::1]:22", 0), "[fe80::1]:22"},
		// A scope id means nothing for a global address: not shown.
		{"inet6 global with scope", inet6("[2001:db8::1]:443", 3), "[2001:db8::1]:443"},
		// sockaddr_in6 without its scope id (the old 24-byte layout).
		{"inet6 without scope field", inet6("[fe80::1]:22", 2)[:24], "[fe80::1]:22"},
		{"unix path", unixPath("/tmp/socklab.sock"), "/tmp/socklab.sock"},
		{"unix path exact length", unixPath("/run/x")[:2+len("/run/x")], "/run/x"},
		{"unix path with its NUL", unixPath("/run/x")[:2+len("/run/x")+1], "/run/x"},
		{"unix unnamed", unixPath("")[:2], "(unnamed)"},
		{"unix abstract", unixAbstract("socklab"), "@socklab"},
		{"unix abstract empty", unixAbstract(""), "@"},
		// Every byte of an abstract name counts, a NUL too.
		{"unix abstract with NUL", unixAbstract("a\x00b"), `@"a\x00b"`},
		{"unix control bytes", unixPath("/tmp/a\nb\x1b[2J"), `"/tmp/a\nb\x1b[2J"`},
		{"unix abstract control bytes", unixAbstract("x\ty"), `@"x\ty"`},
		{"unix invalid utf-8", unixPath("/tmp/\xff"), `"/tmp/\xff"`},
		{"unix utf-8 kept", unixPath("/tmp/你好"), "/tmp/你好"},

		{"nil", nil, ""},
		{"one byte", []byte{2}, ""},
		{"inet4 truncated", inet4("127.0.0.1:1234")[:7], ""},
		{"inet4 family only", inet4("127.0.0.1:1234")[:2], ""},
		{"inet6 truncated", inet6("[::1]:1", 0)[:23], ""},
		{"unknown family", []byte{99, 0, 1, 2, 3, 4, 5, 6}, ""},
		{"netlink", []byte{16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, ""},
		{"family big-endian is not AF_INET", []byte{0, 2, 0, 80, 127, 0, 0, 1}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := sockaddr(tt.b); got != tt.want {
				t.Errorf("sockaddr(%q) = %q, want %q", tt.b, got, tt.want)
			}
		})
	}
}

func TestFamilyAndPort(t *testing.T) {
	if got := familyOf(inet4("1.2.3.4:5")); got != afInet {
		t.Errorf("familyOf(inet4) = %d", got)
	}
	if got := familyOf(inet6("[::1]:5", 0)); got != afInet6 {
		t.Errorf("familyOf(inet6) = %d", got)
	}
	if got := familyOf([]byte{1}); got != 0 {
		t.Errorf("familyOf(1 byte) = %d, want 0", got)
	}
	for _, tt := range []struct {
		b    []byte
		want int
	}{
		{inet4("1.2.3.4:5353"), 5353},
		{inet6("[::1]:443", 0), 443},
		{inet4("1.2.3.4:5353")[:3], -1},
		{unixPath("/x"), -1},
		{nil, -1},
	} {
		if got := port(tt.b); got != tt.want {
			t.Errorf("port(%q) = %d, want %d", tt.b, got, tt.want)
		}
	}
}

func TestSocketArgs(t *testing.T) {
	for _, tt := range []struct {
		family, typ, proto int
		want               string
	}{
		{afInet, sockStream, 0, "AF_INET, SOCK_STREAM, IPPROTO_IP"},
		{afInet, sockStream | sockCloexec, 0, "AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP"},
		{afInet, sockStream | sockNonblock, 6, "AF_INET, SOCK_STREAM|SOCK_NONBLOCK, IPPROTO_TCP"},
		{afInet6, sockDgram, 17, "AF_INET6, SOCK_DGRAM, IPPROTO_UDP"},
		{afInet6, sockStream, 0, "AF_INET6, SOCK_STREAM, IPPROTO_IP"},
		{afInet, sockStream, 262, "AF_INET, SOCK_STREAM, IPPROTO_MPTCP"},
		// Unix sockets have no IP protocol: strace shows a bare 0.
		{afUnix, sockStream | sockCloexec, 0, "AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0"},
		{afUnix, sockDgram, 0, "AF_UNIX, SOCK_DGRAM, 0"},
		{afUnix, 5, 0, "AF_UNIX, SOCK_SEQPACKET, 0"},
		{16, 3, 0, "AF_NETLINK, SOCK_RAW, 0"},
		{17, 3, 768, "AF_PACKET, SOCK_RAW, 768"},
		{99, 7, 42, "99, 7, 42"},
	} {
		if got := socketArgs(tt.family, tt.typ, tt.proto); got != tt.want {
			t.Errorf("socketArgs(%d, %#x, %d) = %q, want %q", tt.family, tt.typ, tt.proto, got, tt.want)
		}
	}
}

// strace (6.1, checked by hand) shows both flags as
// SOCK_CLOEXEC|SOCK_NONBLOCK, as acceptFlags does: socket(AF_INET6,
// SOCK_DGRAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = 3. Go's net package
// makes every socket with both.
func TestSocketArgsFlagsInStraceOrder(t *testing.T) {
	got := socketArgs(afInet, sockStream|sockNonblock|sockCloexec, 0)
	const want = "AF_INET, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP"
	if got != want {
		t.Fatalf("socketArgs shows the flags in the other order than strace (and acceptFlags): got %q, want %q", got, want)
	}
}

func TestKindOf(t *testing.T) {
	for _, tt := range []struct {
		family, typ int
		want        string
	}{
		{afInet, sockStream, "tcp"},
		{afInet6, sockStream, "tcp"},
		{afInet, sockStream | sockNonblock | sockCloexec, "tcp"},
		{afInet, sockDgram, "udp"},
		{afInet6, sockDgram | sockCloexec, "udp"},
		{afUnix, sockStream, "unix"},
		{afUnix, sockDgram, "unix"},
		{afUnix, 5, "unix"},
		{afInet, 3, ""}, // raw
		{afInet, 5, ""}, // SCTP's seqpacket
		{16, 3, ""},     // netlink
		{16, sockDgram, ""},
		{17, 3, ""}, // packet
		{0, 0, ""},
	} {
		if got := kindOf(tt.family, tt.typ); got != tt.want {
			t.Errorf("kindOf(%d, %#x) = %q, want %q", tt.family, tt.typ, got, tt.want)
		}
	}
}

func TestIovecs(t *testing.T) {
	for _, tt := range []struct {
		name string
		b    []byte
		want []iovec
	}{
		{"none", nil, []iovec{}},
		{"one", iovecBytes(iovec{0x7fff0000, 1024}), []iovec{{0x7fff0000, 1024}}},
		{"two", iovecBytes(iovec{0x1000, 5}, iovec{0xffffffffffff0000, 1 << 40}),
			[]iovec{{0x1000, 5}, {0xffffffffffff0000, 1 << 40}}},
		{"trailing partial iovec ignored", append(iovecBytes(iovec{1, 2}), 9, 9, 9, 9, 9, 9, 9, 9, 9),
			[]iovec{{1, 2}}},
		{"shorter than one", make([]byte, 15), []iovec{}},
		{"zero length", iovecBytes(iovec{0x2000, 0}), []iovec{{0x2000, 0}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := iovecs(tt.b)
			if got == nil {
				t.Fatal("iovecs returned nil")
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("iovecs = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDecodeMsghdr(t *testing.T) {
	b := msghdrBytes(0x7ffd0010, 16, 0x7ffd0100, 3)
	h, ok := decodeMsghdr(b)
	if !ok {
		t.Fatal("a whole msghdr did not decode")
	}
	if want := (msghdr{name: 0x7ffd0010, namelen: 16, iov: 0x7ffd0100, iovlen: 3}); h != want {
		t.Errorf("decodeMsghdr = %+v, want %+v", h, want)
	}
	// A longer buffer (an mmsghdr: msghdr, then msg_len) decodes the same.
	if h2, ok := decodeMsghdr(append(b, 1, 2, 3, 4, 5, 6, 7, 8)); !ok || h2 != h {
		t.Errorf("an mmsghdr's msghdr = %+v, %v; want %+v", h2, ok, h)
	}
	// No address (a connected socket's sendmsg).
	if h, ok := decodeMsghdr(msghdrBytes(0, 0, 0x5000, 1)); !ok || h.name != 0 || h.namelen != 0 || h.iov != 0x5000 || h.iovlen != 1 {
		t.Errorf("decodeMsghdr without a name = %+v, %v", h, ok)
	}
	for _, n := range []int{0, 1, 8, 32, msghdrSize - 1} {
		if h, ok := decodeMsghdr(b[:n]); ok || h != (msghdr{}) {
			t.Errorf("decodeMsghdr of %d bytes = %+v, %v; want the zero msghdr, false", n, h, ok)
		}
	}
}

func TestIsNameService(t *testing.T) {
	for _, tt := range []struct {
		addr string
		want bool
	}{
		{"/var/run/nscd/socket", true},
		{"/run/nscd/socket", true},
		{"/run/systemd/resolve/io.systemd.Resolve", true},
		{"127.0.0.53:53", true},
		{"8.8.8.8:53", true},
		{"[::1]:53", true},
		{"[2001:4860:4860::8888]:53", true},
		{"[fe80::1%2]:53", true},
		{"127.0.0.1:5353", false},
		{"127.0.0.1:530", false},
		{"127.0.0.1:153", false},
		{"127.0.0.1:8053", false},
		{"127.0.0.53:80", false},
		{"[::1]:5300", false},
		{"/tmp/socklab.sock", false},
		{"/var/run/nscd/socket2", false},
		{"@nscd", false},
		{"(unnamed)", false},
		{"53", false},
		{"", false},
	} {
		if got := isNameService(tt.addr); got != tt.want {
			t.Errorf("isNameService(%q) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}

func TestFcntlFlags(t *testing.T) {
	const (
		oRdwr     = 0o2
		oAppend   = 0o2000
		oNonblock = 0o4000
	)
	for _, tt := range []struct {
		flags uint64
		want  string
	}{
		{oNonblock, "O_NONBLOCK"},
		{oNonblock | oRdwr, "O_NONBLOCK|02"},
		{oNonblock | oAppend | oRdwr, "O_NONBLOCK|02002"},
		{0, "0"},
		{oRdwr, "02"},
		{oAppend, "02000"},
	} {
		if got := fcntlFlags(tt.flags); got != tt.want {
			t.Errorf("fcntlFlags(%#o) = %q, want %q", tt.flags, got, tt.want)
		}
	}
}

func TestAcceptFlags(t *testing.T) {
	for _, tt := range []struct {
		flags uint64
		want  string
	}{
		{0, "0"},
		{sockCloexec, "SOCK_CLOEXEC"},
		{sockNonblock, "SOCK_NONBLOCK"},
		{sockCloexec | sockNonblock, "SOCK_CLOEXEC|SOCK_NONBLOCK"},
		// Bits accept4 does not know are not shown (the kernel refuses
		// the call with EINVAL).
		{sockCloexec | 1, "SOCK_CLOEXEC"},
		{1 << 40, "0"},
	} {
		if got := acceptFlags(tt.flags); got != tt.want {
			t.Errorf("acceptFlags(%#x) = %q, want %q", tt.flags, got, tt.want)
		}
	}
}

func TestShutdownHowAndSockopt(t *testing.T) {
	for how, want := range map[uint64]string{0: "SHUT_RD", 1: "SHUT_WR", 2: "SHUT_RDWR", 7: "7"} {
		if got := shutdownHow(how); got != want {
			t.Errorf("shutdownHow(%d) = %q, want %q", how, got, want)
		}
	}
	for _, tt := range []struct {
		level, name uint64
		want        string
	}{
		{1, 2, "SOL_SOCKET, SO_REUSEADDR"},
		{6, 1, "IPPROTO_TCP, TCP_NODELAY"},
		{41, 26, "IPPROTO_IPV6, IPV6_V6ONLY"},
		{1, 999, "1, 999"},
	} {
		if got := sockoptArgs(tt.level, tt.name); got != tt.want {
			t.Errorf("sockoptArgs(%d, %d) = %q, want %q", tt.level, tt.name, got, tt.want)
		}
	}
}
