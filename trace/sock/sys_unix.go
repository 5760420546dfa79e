//go:build linux || darwin

package sock

import (
	"errors"
	"net"
	"net/netip"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/socklab/socklab/internal/kernelview"
)

func family(kind Kind, v6 bool) int {
	switch {
	case kind == Unix:
		return unix.AF_UNIX
	case v6:
		return unix.AF_INET6
	}
	return unix.AF_INET
}

func sockType(kind Kind) int {
	if kind == UDP {
		return unix.SOCK_DGRAM
	}
	return unix.SOCK_STREAM
}

func sysBindPath(fd int, path string) error { return unix.Bind(fd, &unix.SockaddrUnix{Name: path}) }

func sysConnectPath(fd int, path string) error {
	return unix.Connect(fd, &unix.SockaddrUnix{Name: path})
}

func sysSendTo(fd int, b []byte, to netip.AddrPort) error { return unix.Sendto(fd, b, 0, sockaddr(to)) }

func sysRecvFrom(fd int, b []byte) (int, netip.AddrPort, error) {
	n, from, err := unix.Recvfrom(fd, b, 0)
	return n, addrPort(from), err
}

func sockaddr(addr netip.AddrPort) unix.Sockaddr {
	ip := addr.Addr()
	if ip.Is4() {
		return &unix.SockaddrInet4{Port: int(addr.Port()), Addr: ip.As4()}
	}
	// A link-local address names its interface (fe80::1%eth0): the
	// kernel wants the interface's index, and without one fails with
	// EINVAL.
	return &unix.SockaddrInet6{Port: int(addr.Port()), Addr: ip.As16(), ZoneId: kernelview.ZoneIndex(ip.Zone())}
}

func addrPort(sa unix.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrInet6:
		ip := netip.AddrFrom16(sa.Addr)
		if sa.ZoneId != 0 {
			if ifi, err := net.InterfaceByIndex(int(sa.ZoneId)); err == nil {
				ip = ip.WithZone(ifi.Name)
			} else {
				ip = ip.WithZone(strconv.Itoa(int(sa.ZoneId)))
			}
		}
		return netip.AddrPortFrom(ip, uint16(sa.Port))
	}
	return netip.AddrPort{}
}

func sysBind(fd int, addr netip.AddrPort) error { return unix.Bind(fd, sockaddr(addr)) }

func sysConnect(fd int, addr netip.AddrPort) error { return unix.Connect(fd, sockaddr(addr)) }

func sysGetsockname(fd int) (netip.AddrPort, error) {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return addrPort(sa), nil
}

func unixListen(fd, backlog int) error { return unix.Listen(fd, backlog) }

func unixRead(fd int, b []byte) (int, error) { return unix.Read(fd, b) }

func unixWrite(fd int, b []byte) (int, error) { return unix.Write(fd, b) }

func unixClose(fd int) error { return unix.Close(fd) }

func unixShutdown(fd int, how How) error {
	switch how {
	case ShutRead:
		return unix.Shutdown(fd, unix.SHUT_RD)
	case ShutWrite:
		return unix.Shutdown(fd, unix.SHUT_WR)
	case ShutBoth:
		return unix.Shutdown(fd, unix.SHUT_RDWR)
	}
	return unix.EINVAL
}

// supported: socklab traces sockets on this system.
const supported = true

func isEINTR(err error) bool { return errors.Is(err, unix.EINTR) }

func isENOTCONN(err error) bool { return errors.Is(err, unix.ENOTCONN) }

// errnoOf returns the name of the errno inside err, like "ECONNREFUSED".
func errnoOf(err error) (string, bool) {
	var errno unix.Errno
	if err == nil || !errors.As(err, &errno) {
		return "", false
	}
	if name := unix.ErrnoName(errno); name != "" {
		return name, true
	}
	return "", false
}

func sysSetLinger(fd, onoff, seconds int) error {
	return unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: int32(onoff), Linger: int32(seconds)})
}

func sysSetReuseAddr(fd, v int) error {
	return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, v)
}

func sysSetRecvTimeout(fd int, d time.Duration) error {
	tv := unix.NsecToTimeval(d.Nanoseconds())
	return unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
}

// sysSetNonblock sets O_NONBLOCK with one fcntl(F_SETFL). F_SETFL changes
// only the status flags it may change (O_NONBLOCK, O_APPEND, O_ASYNC, …),
// and a socket has none of the others set, so no F_GETFL is needed first.
func sysSetNonblock(fd int) error {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_SETFL, unix.O_NONBLOCK)
	return err
}

// sysDupForPoller duplicates fd (close-on-exec) for the runtime's poller,
// as the lowest free number from low up.
func sysDupForPoller(fd, low int) (int, error) {
	return unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, low)
}

func isEINVAL(err error) bool { return errors.Is(err, unix.EINVAL) }

func isEAGAIN(err error) bool { return errors.Is(err, unix.EAGAIN) }

func isEINPROGRESS(err error) bool { return errors.Is(err, unix.EINPROGRESS) }

// sysSocketError reads SO_ERROR: its value, and that value as an error
// (nil for 0).
func sysSocketError(fd int) (value int, pending error, err error) {
	value, err = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err == nil && value != 0 {
		pending = unix.Errno(value)
	}
	return value, pending, err
}

// sysPoll waits, with no timeout, until one of fds is ready for its
// events (pollIn, pollOut), and returns what each became ready for.
func sysPoll(fds, events []int) (int, []int, error) {
	pfds := make([]unix.PollFd, len(fds))
	for i, fd := range fds {
		pfds[i].Fd = int32(fd)
		if events[i]&pollIn != 0 {
			pfds[i].Events |= unix.POLLIN
		}
		if events[i]&pollOut != 0 {
			pfds[i].Events |= unix.POLLOUT
		}
	}
	n, err := unix.Poll(pfds, -1)
	revents := make([]int, len(fds))
	for i, p := range pfds {
		if p.Revents&unix.POLLIN != 0 {
			revents[i] |= pollIn
		}
		if p.Revents&unix.POLLOUT != 0 {
			revents[i] |= pollOut
		}
		if p.Revents&unix.POLLHUP != 0 {
			revents[i] |= pollHup
		}
		if p.Revents&unix.POLLERR != 0 {
			revents[i] |= pollErr
		}
	}
	return n, revents, err
}
