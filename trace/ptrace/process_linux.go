package ptrace

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/socklab/socklab/internal/kernelview"
	"github.com/socklab/socklab/trace"
)

// The kernel's view of another process: whether its descriptor is a
// socket and which (/proc/PID/fd), what the kernel says of the socket
// (asked of a duplicate, pidfd_getfd, closed at once), and its memory
// (process_vm_readv). These answer the model's questions (kernel, memory).

// The system's side of the model's questions (kernel), answered for the
// tracing thread.
type procKernel Session

func (k *procKernel) inode(pid, fd int) (uint64, bool) {
	var buf [64]byte
	path := strconv.AppendInt(append(strconv.AppendInt(append(buf[:0], "/proc/"...), int64(pid), 10), "/fd/"...), int64(fd), 10)
	var link [64]byte
	n, err := unix.Readlink(string(path), link[:])
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(link[:n]), "socket:[")
	if !ok {
		return 0, false
	}
	ino, err := strconv.ParseUint(strings.TrimSuffix(rest, "]"), 10, 64)
	return ino, err == nil
}

// dup duplicates process pid's descriptor fd into socklab, or returns -1.
// The caller closes it at once: a duplicate held across the program's
// close would delay its FIN.
func (k *procKernel) dup(pid, fd int) int {
	pidfd, ok := k.pidfds[pid]
	if !ok {
		var err error
		if pidfd, err = unix.PidfdOpen(pid, 0); err != nil {
			return -1
		}
		k.pidfds[pid] = pidfd
	}
	d, err := unix.PidfdGetfd(pidfd, fd, 0)
	if err != nil {
		return -1
	}
	return d
}

func (k *procKernel) facts(pid, fd int, state bool) facts {
	d := k.dup(pid, fd)
	if d < 0 {
		return facts{}
	}
	defer unix.Close(d)
	f := facts{ok: true}
	f.family, _ = unix.GetsockoptInt(d, unix.SOL_SOCKET, unix.SO_DOMAIN)
	f.typ, _ = unix.GetsockoptInt(d, unix.SOL_SOCKET, unix.SO_TYPE)
	if v, err := unix.GetsockoptInt(d, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err == nil {
		f.listening = v == 1
	}
	if sa, err := unix.Getsockname(d); err == nil {
		f.local = sockaddrString(sa)
	}
	if sa, err := unix.Getpeername(d); err == nil {
		f.remote = sockaddrString(sa)
	}
	if fl, err := unix.FcntlInt(uintptr(d), unix.F_GETFL, 0); err == nil {
		f.nonblock = fl&unix.O_NONBLOCK != 0
	}
	if state && f.typ == unix.SOCK_STREAM && f.family != unix.AF_UNIX {
		v := kernelview.StateOf(d, f.local, f.remote, f.family == unix.AF_INET6)
		f.state, f.timer, f.stateFrom = v.State, v.Timer, v.From
	}
	return f
}

func (k *procKernel) copies(ino uint64, pid, fd int) int {
	n := 0
	for q := range k.model.procs {
		entries, err := os.ReadDir("/proc/" + strconv.Itoa(q) + "/fd")
		if err != nil {
			continue
		}
		for _, ent := range entries {
			f, err := strconv.Atoi(ent.Name())
			if err != nil || q == pid && f == fd {
				continue
			}
			if other, ok := k.inode(q, f); ok && other == ino {
				n++
			}
		}
	}
	return n
}

func (k *procKernel) closed(e *trace.Event, v6 bool) { kernelview.NoteClosed(e, v6) }

func (k *procKernel) errnoName(n int) string {
	if name := unix.ErrnoName(syscall.Errno(n)); name != "" {
		return name
	}
	return "E" + strconv.Itoa(n)
}

func sockaddrString(sa unix.Sockaddr) string {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return fmt.Sprintf("%d.%d.%d.%d:%d", sa.Addr[0], sa.Addr[1], sa.Addr[2], sa.Addr[3], sa.Port)
	case *unix.SockaddrInet6:
		b := make([]byte, 28)
		b[0] = afInet6
		b[2], b[3] = byte(sa.Port>>8), byte(sa.Port)
		copy(b[8:], sa.Addr[:])
		binary.LittleEndian.PutUint32(b[24:], sa.ZoneId)
		return sockaddr(b)
	case *unix.SockaddrUnix:
		if strings.HasPrefix(sa.Name, "@") {
			return "@" + escapeName([]byte(sa.Name[1:]))
		}
		if sa.Name == "" {
			return "(unnamed)"
		}
		return escapeName([]byte(sa.Name))
	}
	return ""
}

// processMemory reads a tracee's memory with process_vm_readv.
type processMemory struct{}

func (processMemory) read(pid int, addr uint64, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	local := []unix.Iovec{{Base: &b[0]}}
	local[0].SetLen(len(b))
	remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: len(b)}}
	n, err := unix.ProcessVMReadv(pid, local, remote, 0)
	if n < 0 {
		n = 0
	}
	return n, err
}

func (k *procKernel) queued(pid, fd int, listening bool) (int, bool) {
	d := k.dup(pid, fd)
	if d < 0 {
		return 0, false
	}
	defer unix.Close(d)
	if listening {
		_, n, ok := kernelview.Unacked(d)
		return n, ok
	}
	n, err := unix.IoctlGetInt(d, unix.SIOCINQ)
	return n, err == nil
}
