package ptrace

import (
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/socklab/socklab/trace"
)

// The cost of tracing, measured as strace's is: one program run per op,
// untraced, under socklab's tracer (with the seccomp filter, and without),
// and under strace -f (stopping at every call, and with --seccomp-bpf).
// Compare the variants side by side in one run:
//
//	go test -run '^$' -bench . -benchtime 3x -count 5 ./trace/ptrace | benchstat -col /how -
//
// docs/performance.md has the numbers and the ratios.

// tracedCalls is the set of calls strace is asked to show: the ones the
// filter stops at, the table's that this machine has.
var tracedCalls = func() string {
	var names []string
	if a := arches[runtime.GOARCH]; a != nil {
		for i := range table {
			if _, ok := a.nr[&table[i]]; ok {
				names = append(names, table[i].name)
			}
		}
	}
	return strings.Join(names, ",")
}()

// runUnder runs argv once the way named by how.
func runUnder(b *testing.B, how string, argv []string) {
	b.Helper()
	switch how {
	case "untraced":
		if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
			b.Fatalf("%v: %v\n%s", argv, err, out)
		}
	case "strace", "strace-seccomp":
		strace, err := exec.LookPath("strace")
		if err != nil {
			b.Skip("needs strace")
		}
		args := []string{"-f", "-qq", "-o", os.DevNull, "-e", "trace=" + tracedCalls}
		if how == "strace-seccomp" {
			args = append(args, "--seccomp-bpf")
		}
		if out, err := exec.Command(strace, append(args, argv...)...).CombinedOutput(); err != nil {
			b.Fatalf("strace %v: %v\n%s", argv, err, out)
		}
	case "socklab", "socklab-nofilter", "socklab-nosource":
		// As `socklab trace --format=json > /dev/null` does: every event
		// encoded, the kernel's view asked for.
		tr := trace.New(trace.NewJSONSink(io.Discard, nil))
		s, err := Start(tr, Options{KernelState: true, NoFilter: how == "socklab-nofilter", NoSource: how == "socklab-nosource"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Launch(Program{Argv: argv, Stdout: devNullFile(b), Stderr: devNullFile(b)}); err != nil {
			b.Fatal(err)
		}
		for _, x := range s.Wait() {
			if x.Code != 0 {
				b.Fatalf("%v exited %d", argv, x.Code)
			}
		}
	}
}

func devNullFile(b *testing.B) *os.File {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	return f
}

var ways = []string{"untraced", "socklab", "socklab-nosource", "socklab-nofilter", "strace", "strace-seccomp"}

func benchProgram(b *testing.B, argv []string) {
	for _, how := range ways {
		b.Run("how="+how, func(b *testing.B) {
			for b.Loop() {
				runUnder(b, how, argv)
			}
		})
	}
}

func python(b *testing.B) string {
	path, err := exec.LookPath("python3")
	if err != nil {
		b.Skip("needs python3")
	}
	return path
}

// BenchmarkSocketLoop: a Python client doing 2,000 connect, send, receive
// and close against a server of its own (untraced, in this process).
func BenchmarkSocketLoop(b *testing.B) {
	benchSocketLoop(b, python(b), "testdata/bench_client.py")
}

// BenchmarkSocketLoopTimeout: the same loop with a timeout on each socket
// (settimeout): per connection an ioctl(FIONBIO), a connect that returns
// EINPROGRESS, three polls and a getsockopt(SO_ERROR) more, each traced.
func BenchmarkSocketLoopTimeout(b *testing.B) {
	benchSocketLoop(b, python(b), "testdata/bench_client.py", "timeout")
}

func benchSocketLoop(b *testing.B, py, script string, more ...string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 64)
				if n, err := c.Read(buf); err == nil {
					c.Write(buf[:n])
				}
			}()
		}
	}()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	benchProgram(b, append([]string{py, script, port, "2000"}, more...))
}

// BenchmarkFileReads: 20,000 reads of a small file. read and close stop
// at the filter (it cannot tell a file from a socket); the tracer asks the
// kernel and lets them go.
func BenchmarkFileReads(b *testing.B) {
	benchProgram(b, []string{python(b), "testdata/bench_files.py", smallFile(b), "20000"})
}

// BenchmarkStatLoop: 200,000 stat calls, which the filter lets through.
func BenchmarkStatLoop(b *testing.B) {
	benchProgram(b, []string{python(b), "testdata/bench_stat.py", smallFile(b), "200000"})
}

func smallFile(b *testing.B) string {
	path := filepath.Join(b.TempDir(), "small")
	if err := os.WriteFile(path, []byte("hello\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}
