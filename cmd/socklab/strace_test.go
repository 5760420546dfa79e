//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestTraceAgreesWithStrace runs the built command under strace -f and checks
// that the kernel saw exactly the calls socklab traced, with the same
// descriptors and results, in the same order on every descriptor: for
// basic, and for http and websocket, whose libraries run on the traced
// net.Conn adapter (non-blocking sockets, EAGAIN included).
func TestTraceAgreesWithStrace(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace is not installed; apt-get install strace to run this test")
	}
	if testing.Short() {
		t.Skip("builds the command; skipped in -short mode")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "socklab")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, tt := range []struct {
		lesson string
		// unordered: the libraries use a connection from two goroutines
		// at once (a read and a write), whose calls may be recorded in
		// the other order than the kernel ran them; each life of a
		// descriptor, from its making to its close, is then compared as
		// a set.
		unordered bool
	}{{"basic", false}, {"http", true}, {"websocket", true}} {
		t.Run(tt.lesson, func(t *testing.T) {
			agreeWithStrace(t, strace, bin, tt.lesson, tt.unordered)
		})
	}
}

// lives sorts each life of a descriptor (the calls up to and including a
// close) on its own.
func lives(calls []string) []string {
	var sorted []string
	start := 0
	for i, c := range calls {
		if strings.HasPrefix(c, "close=") || i == len(calls)-1 {
			life := slices.Clone(calls[start : i+1])
			slices.Sort(life)
			sorted = append(sorted, life...)
			start = i + 1
		}
	}
	return sorted
}

func agreeWithStrace(t *testing.T, strace, bin, lesson string, unordered bool) {
	log := filepath.Join(t.TempDir(), "strace.log")
	cmd := exec.Command(strace, "-f", "-qq", "-o", log,
		"-e", "trace=socket,bind,listen,accept4,connect,getsockname,read,write,shutdown,close,openat,setsockopt,fcntl",
		bin, "run", lesson, "--format=json")
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok && strings.Contains(string(ee.Stderr), "ptrace") {
			t.Skipf("strace cannot trace here: %s", ee.Stderr)
		}
		t.Fatalf("strace socklab: %v", err)
	}
	traced := tracedCalls(t, string(out))
	seen, afterClose := kernelCalls(t, log)
	for _, call := range afterClose {
		t.Errorf("strace saw %s on a socket's descriptor after its traced close", call)
	}
	if len(traced) == 0 {
		t.Fatal("the trace holds no calls")
	}
	for fd, want := range traced {
		got := seen[fd]
		if unordered {
			got, want = lives(got), lives(want)
		}
		if !slices.Equal(got, want) {
			t.Errorf("fd %d:\nstrace saw %q\nsocklab traced %q", fd, got, want)
		}
	}
	for fd, got := range seen {
		if _, ok := traced[fd]; !ok {
			t.Errorf("fd %d: strace saw %q, which socklab never traced", fd, got)
		}
	}
}

// tracedCalls reads the JSON trace: per descriptor, "syscall=ret" for each End.
func tracedCalls(t *testing.T, jsonl string) map[int][]string {
	calls := make(map[int][]string)
	sc := bufio.NewScanner(strings.NewReader(jsonl))
	for sc.Scan() {
		var e struct {
			Phase, Syscall string
			FD, Ret        *int
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		if e.Phase != "end" || e.FD == nil || e.Ret == nil {
			continue
		}
		calls[*e.FD] = append(calls[*e.FD], fmt.Sprintf("%s=%d", e.Syscall, *e.Ret))
	}
	return calls
}

var (
	straceLine = regexp.MustCompile(`^(\d+)\s+(.*)$`)
	straceCall = regexp.MustCompile(`^(\w+)\((\w+).*\)\s+=\s+(-?\d+)`)
)

// kernelCalls reads strace -f output: per socket descriptor, "syscall=ret"
// for each call on it, from the socket() or accept4() that made it to the
// close() that ended it. Other descriptors (the runtime's, files, standard
// output) are left out. afterClose lists calls made on a socket's number
// after its close, which nothing made that number again to explain: a
// trace must not show a close that strace contradicts.
//
// strace -f logs each thread's stops in the order it collects them, not in
// the order they happened across threads: one thread's connect(8) can be
// logged before another thread's socket() = 8 that it follows (seen in CI
// under load, http lesson). So a call on a closed number is held until the
// number is made again — then it is the new socket's, after its making —
// and reported only if nothing makes it again.
func kernelCalls(t *testing.T, path string) (calls map[int][]string, afterClose []string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pending := make(map[string]string) // pid → the start of an unfinished call
	// pid → where an unfinished close of a socket is in calls: close frees
	// the number when it starts, and another thread may be given it
	// before this close is logged as finished, so the close is counted
	// where it started.
	type place struct{ fd, index int }
	closing := make(map[string]place)
	live := make(map[int]bool)
	closed := make(map[int]bool) // socket numbers closed and not made again
	calls = make(map[int][]string)
	type heldCall struct {
		name string
		ret  int
		line string
	}
	held := make(map[int][]heldCall) // calls on a closed number, logged before what made it again
	// made records that fd is a socket again, and gives it the calls
	// logged on its number before its making was.
	var made func(fd int)
	note := func(fd int, name string, ret int) {
		if !live[fd] || name == "setsockopt" {
			return // setsockopt is traced only for the options lessons set
		}
		calls[fd] = append(calls[fd], fmt.Sprintf("%s=%d", name, ret))
		switch {
		case name == "accept4" && ret >= 0:
			made(ret)
		case name == "close":
			delete(live, fd)
			closed[fd] = true
		}
	}
	made = func(fd int) {
		live[fd] = true
		delete(closed, fd)
		early := held[fd]
		delete(held, fd)
		for _, h := range early {
			note(fd, h.name, h.ret)
		}
	}
	// taken forgets what was held on a number a file or the runtime took.
	taken := func(fd int) {
		delete(closed, fd)
		delete(held, fd)
	}
	for _, line := range strings.Split(string(data), "\n") {
		m := straceLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		pid, rest := m[1], m[2]
		if head, ok := strings.CutSuffix(rest, " <unfinished ...>"); ok {
			pending[pid] = head
			if fd, isClose := strings.CutPrefix(head, "close("); isClose && live[atoi(fd)] {
				n := atoi(fd)
				closing[pid] = place{n, len(calls[n])}
				calls[n] = append(calls[n], "close=?")
				delete(live, n)
				closed[n] = true
			}
			continue
		}
		if strings.HasPrefix(rest, "<... ") {
			_, tail, _ := strings.Cut(rest, " resumed>")
			rest = pending[pid] + tail
			delete(pending, pid)
			if p, ok := closing[pid]; ok {
				delete(closing, pid)
				if c := straceCall.FindStringSubmatch(rest); c != nil {
					calls[p.fd][p.index] = "close=" + c[3]
				}
				continue
			}
		}
		c := straceCall.FindStringSubmatch(rest)
		if c == nil {
			continue
		}
		name, ret := c[1], atoi(c[3])
		switch name {
		case "socket":
			if strings.HasPrefix(rest, "socket(AF_NETLINK") {
				// socklab asking sock_diag for the kernel's view: an
				// observation, like reading a file, not a traced socket.
				taken(ret)
				continue
			}
			if ret >= 0 {
				calls[ret] = append(calls[ret], fmt.Sprintf("%s=%d", name, ret))
				made(ret)
			}
			continue
		case "openat":
			taken(ret) // a file took the number: calls on it are the file's
			continue
		}
		if name == "fcntl" && strings.Contains(rest, "F_DUPFD") && ret >= 0 {
			// The duplicate handed to Go's poller: the runtime's, like a
			// file, from then on. The F_DUPFD itself is on the socket.
			taken(ret)
		}
		fd := atoi(c[2])
		if closed[fd] {
			held[fd] = append(held[fd], heldCall{name, ret, rest})
			continue
		}
		note(fd, name, ret)
	}
	for _, early := range held {
		for _, h := range early {
			afterClose = append(afterClose, h.line)
		}
	}
	return calls, afterClose
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1 << 31
	}
	return n
}
