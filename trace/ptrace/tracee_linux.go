package ptrace

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// The traced program starts as socklab itself: Go cannot run code between
// fork and exec, and the seccomp filter must be installed by the process it
// is to filter. So the tracer starts /proc/self/exe with traceeEnv set, and
// RunTraceeIfAsked, first thing in main, installs the filter and execs the
// real program in its place (which keeps the pid, the ptrace and the
// filter).

// traceeEnv marks the process as a tracee about to exec its program: "1",
// or noFilter to exec it without the seccomp filter.
const (
	traceeEnv = "SOCKLAB_PTRACE_TRACEE"
	noFilter  = "nofilter"
)

// RunTraceeIfAsked, when this process was started by socklab trace as the
// first step of a traced program, installs the seccomp filter and execs
// the program; it does not return then. Otherwise it returns at once. Call
// it first in main (and in TestMain of a test binary that traces).
func RunTraceeIfAsked() {
	mode := os.Getenv(traceeEnv)
	if mode != "1" && mode != noFilter {
		return
	}
	os.Unsetenv(traceeEnv)
	// The filter is per thread and survives exec only on the thread that
	// calls it.
	runtime.LockOSThread()
	code := 127
	exec := execFiltered
	if mode == noFilter {
		exec = func(path string, argv []string) error { return syscall.Exec(path, argv, os.Environ()) }
	}
	if err := exec(os.Args[1], os.Args[2:]); err != nil {
		if err == unix.EACCES {
			code = 126
		}
		fmt.Fprintf(os.Stderr, "socklab trace: %s: %v\n", os.Args[1], err)
	}
	os.Exit(code)
}

// execFiltered installs the filter for this machine and execs path.
func execFiltered(path string, argv []string) error {
	a, ok := arches[runtime.GOARCH]
	if !ok {
		return fmt.Errorf("no system call table for %s", runtime.GOARCH)
	}
	prog, err := filter(a)
	if err != nil {
		return err
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return err
	}
	filters := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		filters[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(filters)), Filter: &filters[0]}
	// Without privileges a filter needs no_new_privs; under ptrace a
	// setuid program runs without its privileges anyway.
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %w", err)
	}
	if _, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&fprog))); errno != 0 {
		return fmt.Errorf("seccomp: %w", errno)
	}
	return syscall.Exec(path, argv, os.Environ())
}
