package ptrace

import (
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/socklab/socklab/trace"
)

// What socklab trace asks of a program it may have to stop: whether it
// idles (every thread asleep in the kernel: in accept, poll, epoll_wait,
// select, recvfrom, read…), whether a person holds it at the gate, and
// the signal that stops it.

// Idle reports whether every thread of every process of the launched
// program i sleeps in the kernel, none of them reading a terminal (a
// program asking a person, as input() does, is not idle) and none held
// at the gate (--step).
func (s *Session) Idle(i int) bool {
	idle, found := true, false
	s.do(func() {
		if s.gated[i] > 0 {
			idle = false
			return
		}
		for tid, t := range s.threads {
			if t.proc.program != i {
				continue
			}
			found = true
			// A thread between the stops of a poll, select or epoll
			// wait is idling too: a server that waits with a timeout
			// (socketserver's poll of half a second) wakes to look and
			// waits again, and a sample taken while socklab handles its
			// stop must not count it busy (under load, it always did).
			waiting := t.inCall != nil && t.inCall.c != nil && t.inCall.c.op == trace.OpPoll
			if !asleep(tid) && !waiting || readsTerminal(t.proc.pid, tid, s.arch) {
				idle = false
				return
			}
		}
	})
	return idle && found
}

// Held reports whether a call of the launched program i waits for a
// person at the gate (--step, --delay).
func (s *Session) Held(i int) bool {
	held := false
	s.do(func() { held = s.gated[i] > 0 })
	return held
}

// SignalProgram sends sig to every process of the launched program i
// (a forking server's children too) that has not ended.
func (s *Session) SignalProgram(i int, sig syscall.Signal) {
	s.do(func() {
		for tid, t := range s.threads {
			if t.proc.program == i && t.proc.pid == tid {
				unix.Kill(tid, sig)
			}
		}
	})
}

// programsEnded reports whether the launched programs numbered in idx
// have all ended.
func (s *Session) programsEnded(idx []int) bool {
	ended := true
	if !s.do(func() {
		for _, i := range idx {
			if i >= len(s.programs) || s.programs[i].exit == nil {
				ended = false
			}
		}
	}) {
		return true
	}
	return ended
}

// asleep reports whether thread tid waits in the kernel (state S: an
// interruptible sleep), from /proc/TID/stat.
func asleep(tid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command's closing parenthesis.
	i := strings.LastIndexByte(string(data), ')')
	return i >= 0 && i+2 < len(data) && data[i+2] == 'S'
}

// readsTerminal reports whether thread tid of process pid is inside a
// read of a terminal.
func readsTerminal(pid, tid int, a *arch) bool {
	fd, ok := readingFD(tid, a)
	if !ok {
		return false
	}
	link, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + strconv.FormatInt(fd, 10))
	return err == nil && (strings.HasPrefix(link, "/dev/pts/") || strings.HasPrefix(link, "/dev/tty"))
}

// readingFD returns the descriptor thread tid is inside a read or readv
// of, from /proc/TID/syscall ("0 0x0 …": the call's number, then its
// arguments).
func readingFD(tid int, a *arch) (int64, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/syscall")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0, false
	}
	nr, err1 := strconv.ParseUint(f[0], 10, 64)
	fd, err2 := strconv.ParseInt(strings.TrimPrefix(f[1], "0x"), 16, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	if c := a.callOf(nr); c == nil || (c.name != "read" && c.name != "readv") {
		return 0, false
	}
	return fd, true
}

// ReadsStdin reports whether a thread of the launched program i waits in
// a read of its standard input.
func (s *Session) ReadsStdin(i int) bool {
	reads := false
	s.do(func() {
		for tid, t := range s.threads {
			if fd, ok := readingFD(tid, s.arch); t.proc.program == i && ok && fd == 0 && asleep(tid) {
				reads = true
			}
		}
	})
	return reads
}

// SignalName names sig as the kernel's headers do: "SIGINT".
func SignalName(sig syscall.Signal) string {
	if name := unix.SignalName(sig); name != "" {
		return name
	}
	return sig.String()
}

// Acted counts the socket calls other than waits that the launched
// program i has begun: a server whose polls only time out does nothing.
func (s *Session) Acted(i int) int {
	n := 0
	s.do(func() { n = s.model.acted[i] })
	return n
}

// ReadsTerminal reports whether a thread of the launched program i is in
// a read of a terminal: a program asking a person is never idle.
func (s *Session) ReadsTerminal(i int) bool {
	reads := false
	s.do(func() {
		for tid, t := range s.threads {
			if t.proc.program == i && readsTerminal(t.proc.pid, tid, s.arch) {
				reads = true
				return
			}
		}
	})
	return reads
}
