package ptrace

import (
	"errors"
	"os"
	"syscall"

	"github.com/socklab/socklab/trace"
)

// A Program is one command to trace.
type Program struct {
	// Argv is the command and its arguments; Argv[0] is looked up in
	// PATH as a shell would.
	Argv []string
	// Role is the part the program plays, when the user said
	// (--server, --client); "" learns it from what the program does: a
	// process that listens is a server, one that connects a client.
	Role trace.Role
	Dir  string
	Env  []string // nil: socklab's own environment
	// The program's standard streams; nil keeps socklab's own.
	Stdin, Stdout, Stderr *os.File
}

// Options configure a Session.
type Options struct {
	// All shows every socket, the startup noise too (a DNS query,
	// glibc's nscd lookup, netlink): without it a socket is shown once it
	// listens, connects to a lesson's peer, or is accepted.
	All bool
	// KernelState records the kernel's view of each call's socket, as
	// the lessons do (Event.State): from a duplicate of the program's
	// descriptor (pidfd_getfd), closed at once.
	KernelState bool
	// Stepped says the tracer's gate waits for a person (--step,
	// --delay): each call is then admitted off the tracing thread, which
	// goes on serving the other programs.
	Stepped bool
	// NoFilter traces without the seccomp filter: every call of the
	// program stops it, twice, as under strace without --seccomp-bpf.
	// The events are the same, only slower; tests and benchmarks compare.
	NoFilter bool
	// Isolate runs the programs in a network namespace of their own: a
	// fresh loopback, brought up, where nothing of an earlier run (a port
	// in TIME_WAIT) is left, and which another terminal's ss cannot see.
	// It needs root; Start returns ErrIsolateRefused without it.
	Isolate bool
	// NoSource leaves out the source lines of Python programs
	// (Event.Source): without it, each program's PYTHONPATH starts with
	// a directory holding socklab's sitecustomize.py (source.go), which
	// tells the tracer each socket call's line.
	NoSource bool
	// Listening, if set, is called when a server's listen has returned:
	// socklab trace starts the clients then.
	Listening func(pid int)
	// Exited, if set, is called when a launched program has ended.
	Exited func(Exit)
}

// Exit is how a launched program ended.
type Exit struct {
	PID  int
	Argv []string
	// Program is the program's place in launch order (0: the first).
	Program int
	// Code is the exit status, or 128+N when killed by signal N (as a
	// shell reports it).
	Code   int
	Signal syscall.Signal // the signal that killed it, or 0
	// Shown counts the events shown for the program and every process
	// it started.
	Shown int
	// Untraced32 says it ran a 32-bit program, whose calls the filter
	// let through untraced.
	Untraced32 bool
	// IOUring says it, or a process it started, set up an io_uring:
	// socket calls made through it are not system calls, and are not
	// traced.
	IOUring bool
	// Killed says socklab killed it (the person stopped the run).
	Killed bool
	// Lost says socklab lost track of it: the kernel said it had ended
	// but gave no status (Code is then 1). It should never happen.
	Lost bool
}

// LeftOpen is a shown socket a process still held when it exited.
type LeftOpen struct {
	Peer      string
	PID, FD   int
	Kind      string
	Listening bool
}

var (
	// ErrUnsupported: socklab trace needs Linux's ptrace, on amd64 or arm64.
	ErrUnsupported = errors.New("socklab trace needs Linux's ptrace and seccomp")
	// ErrNotFound: the command is not in PATH.
	ErrNotFound = errors.New("command not found")
	// ErrNotExecutable: the command exists but cannot be run.
	ErrNotExecutable = errors.New("permission denied")
	// ErrPtraceRefused: the system does not let socklab trace (a
	// container's seccomp policy, Yama's ptrace_scope, or socklab is
	// itself traced).
	ErrPtraceRefused = errors.New("ptrace is not allowed here")
	// ErrIsolateRefused: the system does not let socklab make a network
	// namespace (Options.Isolate needs root, CAP_SYS_ADMIN).
	ErrIsolateRefused = errors.New("a network namespace of its own needs root (CAP_SYS_ADMIN)")
)
