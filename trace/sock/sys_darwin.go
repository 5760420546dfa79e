package sock

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// macOS has no accept4: Accept calls accept, then marks the descriptor
// close-on-exec with fcntl (untraced: it is not part of the lesson).
const acceptSyscall = "accept"

// Poll's call, and its timeout in milliseconds: -1, none.
const (
	pollSyscall = "poll"
	pollForever = "-1"
)

// acceptInheritsNonblock: on macOS, as on the BSDs, a descriptor accept
// returns inherits the listener's O_NONBLOCK.
const acceptInheritsNonblock = true

func sysSocket(kind Kind, v6 bool) (int, error) {
	fd, err := unix.Socket(family(kind, v6), sockType(kind), 0)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	return fd, err
}

func sysAccept(fd int) (int, netip.AddrPort, error) {
	nfd, sa, err := unix.Accept(fd)
	if err != nil {
		return -1, netip.AddrPort{}, err
	}
	unix.CloseOnExec(nfd)
	return nfd, addrPort(sa), nil
}
