package sock

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// acceptSyscall is what Accept calls on Linux: accept4, so that the new
// descriptor is close-on-exec from the start, as Go's own net package does.
const acceptSyscall = "accept4"

// Poll's call: unix.Poll is ppoll on Linux (arm64 has no poll), whose
// timeout, a pointer, is NULL for no timeout.
const (
	pollSyscall = "ppoll"
	pollForever = "NULL"
)

// acceptInheritsNonblock: on Linux a descriptor accept returns does not
// inherit the listener's O_NONBLOCK.
const acceptInheritsNonblock = false

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
