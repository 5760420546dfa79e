package ptrace

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// isolate moves the calling thread, the tracing thread, into a network
// namespace of its own and brings its loopback up. The programs the
// thread forks are born in it, and the kernel's view, asked from this
// thread (/proc/thread-self/net, sock_diag), reads its tables. The thread
// never leaves: it is locked for good, and the runtime ends it with its
// goroutine, and the namespace with the last process in it.
func isolate() error {
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		if errors.Is(err, unix.EPERM) {
			return ErrIsolateRefused
		}
		return fmt.Errorf("unshare(CLONE_NEWNET): %w", err)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	return nil
}
