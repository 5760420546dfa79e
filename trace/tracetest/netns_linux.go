package tracetest

import (
	"fmt"
	"net/netip"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// A Netns is a network namespace of its own, with its loopback up, for a
// benchmark that needs a kernel table of a known size: "no connection in
// TIME_WAIT" is then true whatever the machine's tests left in the last
// minute. A namespace belongs to a thread, so code runs in it through Do.
// Making one needs CAP_SYS_ADMIN (root). The kernel's hash table of
// connections is still shared by every namespace: a walk of it (reading
// /proc/net/tcp) passes the others' connections too.
type Netns struct{ fd int }

// NewNetns makes the namespace.
func NewNetns() (*Netns, error) {
	var ns *Netns
	err := onThread(func() error {
		own, err := threadNetns()
		if err != nil {
			return err
		}
		defer unix.Close(own)
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return err
		}
		defer backTo(own)
		if err := loopbackUp(); err != nil {
			return err
		}
		// Linux reuses a loopback connection's TIME_WAIT for a new one to
		// the same place (tcp_tw_reuse=2, the default), which would keep
		// FillTimeWait's count at some 14,000: not here. /proc/sys/net is
		// the writing thread's namespace.
		if err := os.WriteFile("/proc/sys/net/ipv4/tcp_tw_reuse", []byte("0"), 0); err != nil {
			return err
		}
		fd, err := threadNetns()
		if err != nil {
			return err
		}
		ns = &Netns{fd}
		return nil
	})
	return ns, err
}

// Do runs f on a thread inside the namespace, then brings the thread back.
func (n *Netns) Do(f func()) error {
	return onThread(func() error {
		own, err := threadNetns()
		if err != nil {
			return err
		}
		defer unix.Close(own)
		if err := unix.Setns(n.fd, unix.CLONE_NEWNET); err != nil {
			return err
		}
		defer backTo(own)
		f()
		return nil
	})
}

// Close lets the namespace go once nothing uses it.
func (n *Netns) Close() error { return unix.Close(n.fd) }

func threadNetns() (int, error) {
	return unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
}

// backTo brings the thread back to the namespace own; a thread that cannot
// come back must not run anything else.
func backTo(own int) {
	if err := unix.Setns(own, unix.CLONE_NEWNET); err != nil {
		panic("back to the test's network namespace: " + err.Error())
	}
}

func onThread(f func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return f()
}

// loopbackUp brings lo up in this thread's namespace (a new one has it
// down).
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

// FillTimeWait leaves n+1 connections on 127.0.0.1 in TIME_WAIT in the
// calling thread's namespace (call it inside Do) and returns the addresses
// of the last one's client side, the side that closed first and keeps the
// TIME_WAIT. Raw syscalls, untraced: it is the scenery, not the lesson.
func FillTimeWait(n int) (local, remote netip.AddrPort, err error) {
	ln, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return local, remote, err
	}
	defer unix.Close(ln)
	lo := &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}
	if err := unix.Bind(ln, lo); err != nil {
		return local, remote, err
	}
	if err := unix.Listen(ln, 128); err != nil {
		return local, remote, err
	}
	sa, err := unix.Getsockname(ln)
	if err != nil {
		return local, remote, err
	}
	lo.Port = sa.(*unix.SockaddrInet4).Port
	loopback := netip.AddrFrom4(lo.Addr)
	for i := 0; i <= n; i++ {
		if local, err = closedFirst(ln, lo); err != nil {
			return local, remote, fmt.Errorf("connection %d of %d: %w", i, n, err)
		}
	}
	return netip.AddrPortFrom(loopback, local.Port()), netip.AddrPortFrom(loopback, uint16(lo.Port)), nil
}

// closedFirst makes one connection to the listener ln at addr, closes the
// client's side first, then the server's, and returns the client's
// address.
func closedFirst(ln int, addr *unix.SockaddrInet4) (netip.AddrPort, error) {
	c, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if err := unix.Connect(c, addr); err != nil {
		unix.Close(c)
		return netip.AddrPort{}, err
	}
	s, _, err := unix.Accept4(ln, unix.SOCK_CLOEXEC)
	if err != nil {
		unix.Close(c)
		return netip.AddrPort{}, err
	}
	defer unix.Close(s)
	csa, err := unix.Getsockname(c)
	unix.Close(c)
	if err != nil {
		return netip.AddrPort{}, err
	}
	var buf [1]byte
	unix.Read(s, buf[:]) // the client's FIN is in: the server's close ends it
	return netip.AddrPortFrom(netip.AddrFrom4(addr.Addr), uint16(csa.(*unix.SockaddrInet4).Port)), nil
}
