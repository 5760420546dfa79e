package sock

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// acceptSyscall is what Accept calls on Linux: accept4, so that the new
// descriptor is close-on-exec from the start, as Go's own net package does.
const acceptSyscall = "accept4"

func sysSocket(kind Kind, v6 bool) (int, error) {
	return unix.Socket(family(kind, v6), sockType(kind)|unix.SOCK_CLOEXEC, 0)
}

func sysAccept(fd int) (int, netip.AddrPort, error) {
	nfd, sa, err := unix.Accept4(fd, unix.SOCK_CLOEXEC)
	if err != nil {
		return -1, netip.AddrPort{}, err
	}
	return nfd, addrPort(sa), nil
}
