package ptrace

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The kernel's PTRACE_GET_SYSCALL_INFO (Linux 5.3), which gives a call's
// number and arguments, or its result, the same way on every
// architecture.
const (
	syscallInfoEntry   = 1
	syscallInfoExit    = 2
	syscallInfoSeccomp = 3
)

type syscallInfoResult struct {
	op   uint8
	arch uint32
	nr   uint64
	args [6]uint64
	rval int64
}

// rawSyscallInfo is struct ptrace_syscall_info.
type rawSyscallInfo struct {
	Op      uint8
	Pad     [3]uint8
	Arch    uint32
	IP      uint64
	SP      uint64
	Payload [7]uint64 // entry/seccomp: nr, args[6]; exit: rval, is_error
	RetData uint32
	_       uint32
}

func syscallInfo(tid int) (syscallInfoResult, error) {
	var raw rawSyscallInfo
	_, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_GET_SYSCALL_INFO, uintptr(tid),
		unsafe.Sizeof(raw), uintptr(unsafe.Pointer(&raw)), 0, 0)
	if errno != 0 {
		return syscallInfoResult{}, errno
	}
	r := syscallInfoResult{op: raw.Op, arch: raw.Arch}
	switch raw.Op {
	case syscallInfoEntry, syscallInfoSeccomp:
		r.nr = raw.Payload[0]
		copy(r.args[:], raw.Payload[1:])
	case syscallInfoExit:
		r.rval = int64(raw.Payload[0])
	}
	return r, nil
}

func ptraceGetSiginfo(tid int, info *unix.Siginfo) error {
	_, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_GETSIGINFO, uintptr(tid), 0, uintptr(unsafe.Pointer(info)), 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
