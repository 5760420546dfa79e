// Package ptrace is socklab trace's source of events: another program's
// socket calls, seen through ptrace and a seccomp filter (Linux, amd64 and
// arm64), turned into the trace.Events the lessons' own sockets make.
//
// The parts, each in files of its own:
//
//   - the table of the calls shown (syscalls.go): each call declared once,
//     its numbers, its step, how each argument is shown and when, the role
//     it implies, what it does to its socket, whether the kernel's view is
//     read after it; everything below walks it;
//   - the seccomp filter (filter.go), which stops the program only at the
//     table's calls, installed by the program itself before it execs
//     (tracee_linux.go);
//   - the session (session_linux.go) and the tracing thread
//     (stops_linux.go), which waits for the program's stops and handles
//     each, reading the call with PTRACE_GET_SYSCALL_INFO
//     (syscallinfo_linux.go);
//   - the model (model.go), with no ptrace in it: which process plays
//     which role, which socket is the lesson's and which startup noise;
//     the arguments decoded as their formats say (args.go, decode.go);
//     the waits (waits.go): poll, select and epoll, the epoll sets the
//     program built, the step 7 of a non-blocking connect;
//   - the kernel's view of another process (process_linux.go): whether a
//     descriptor is a socket, what the kernel says of it (through a
//     duplicate; its TCP state from internal/kernelview), its memory.
package ptrace
