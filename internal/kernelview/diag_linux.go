package kernelview

import (
	"encoding/binary"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// sock_diag: the kernel's answer, over netlink, to "what state is the TCP
// socket with these four addresses in?", as ss asks it. A request for one
// exact 4-tuple (no NLM_F_DUMP) is a hash lookup in the kernel: it costs
// the same with 20,000 connections in TIME_WAIT as with none, where
// reading /proc/net/tcp walks them all. No library is needed for one
// message each way; golang.org/x/sys/unix has the socket calls.

// The messages, as linux/inet_diag.h lays them out.
const (
	inetDiagReqSize = 56 // struct inet_diag_req_v2
	inetDiagMsgSize = 72 // struct inet_diag_msg
	nlmsgHdrSize    = 16
	diagTimerTW     = 3 // idiag_timer: the TIME_WAIT timer
	allStates       = 0xffffffff
	noCookie        = 0xffffffff // INET_DIAG_NOCOOKIE
)

// sysDiagConnection asks the kernel for the TCP socket local–remote and
// for the one at the connection's other end (there when it is on this
// machine). found says the kernel has this side; ok is false when
// sock_diag could not be asked (no netlink here, refused), and the caller
// falls back to the table.
func sysDiagConnection(local, remote netip.AddrPort) (own, other tableEntry, found, ok bool) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		if err != unix.EMFILE && err != unix.ENFILE && err != unix.ENOBUFS && err != unix.ENOMEM {
			diagRefused.Store(true) // no netlink here, or not allowed: it will not change
		}
		return own, other, false, false
	}
	defer unix.Close(fd)
	if own, found, ok = diagAsk(fd, local, remote); !ok {
		return own, other, false, false
	}
	other, _, _ = diagAsk(fd, remote, local)
	return own, other, found, true
}

// diagAsk sends one request on the netlink socket fd and reads its answer.
func diagAsk(fd int, local, remote netip.AddrPort) (e tableEntry, found, ok bool) {
	var req [nlmsgHdrSize + inetDiagReqSize]byte
	le, be := binary.LittleEndian, binary.BigEndian
	le.PutUint32(req[0:], uint32(len(req)))
	le.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
	le.PutUint16(req[6:], unix.NLM_F_REQUEST)
	r := req[nlmsgHdrSize:]
	family := byte(unix.AF_INET)
	if local.Addr().Is6() && !local.Addr().Is4In6() {
		family = unix.AF_INET6
	}
	r[0], r[1] = family, unix.IPPROTO_TCP
	le.PutUint32(r[4:], allStates)
	be.PutUint16(r[8:], local.Port())
	be.PutUint16(r[10:], remote.Port())
	putAddr(r[12:28], local.Addr())
	putAddr(r[28:44], remote.Addr())
	le.PutUint32(r[44:], ZoneIndex(local.Addr().Zone()))
	le.PutUint32(r[48:], noCookie)
	le.PutUint32(r[52:], noCookie)
	sa := &unix.SockaddrNetlink{Family: unix.AF_NETLINK}
	if err := unix.Sendto(fd, req[:], 0, sa); err != nil {
		return e, false, false
	}
	var buf [512]byte
	n, _, err := unix.Recvfrom(fd, buf[:], 0)
	if err != nil || n < nlmsgHdrSize {
		return e, false, false
	}
	switch le.Uint16(buf[4:]) {
	case unix.NLMSG_ERROR:
		if n >= nlmsgHdrSize+4 && int32(le.Uint32(buf[nlmsgHdrSize:])) == -int32(unix.ENOENT) {
			return e, false, true // no such socket: gone
		}
		return e, false, false
	case unix.SOCK_DIAG_BY_FAMILY:
	default:
		return e, false, false
	}
	if n < nlmsgHdrSize+inetDiagMsgSize {
		return e, false, false
	}
	m := buf[nlmsgHdrSize:]
	// The kernel's lookup falls back to a listener on the local port:
	// that is not this connection.
	if be.Uint16(m[4:]) != local.Port() || be.Uint16(m[6:]) != remote.Port() {
		return e, false, true
	}
	e = tableEntry{local: local, remote: remote, state: linuxStateName(int(m[1]))}
	if m[2] == diagTimerTW {
		e.timer = time.Duration(le.Uint32(m[52:])) * time.Millisecond
	}
	return e, true, true
}

func putAddr(b []byte, a netip.Addr) {
	if a.Is4() {
		v := a.As4()
		copy(b, v[:])
		return
	}
	v := a.As16()
	copy(b, v[:])
}
