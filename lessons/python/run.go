package python

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/socklab/socklab/trace/i18n"
	"github.com/socklab/socklab/trace/ptrace"
)

// A UsageError is a mistake on the command line: what is wrong and what
// to try, by their catalogue keys (trace/i18n) and arguments.
type UsageError struct {
	Key, Hint      string
	Args, HintArgs []any
}

func (e *UsageError) Error() string { return i18n.EN.T(e.Key, e.Args...) }

// errNoPython says the twins cannot be played here: no python3 on PATH,
// or no ptrace (it says itself: i18n.Sayer).
type errNoPython struct{}

func (errNoPython) Error() string          { return i18n.EN.T("err.twin_python") }
func (errNoPython) Say(l i18n.Lang) string { return l.T("err.twin_python") }

// ErrNoPython says the twins cannot be played here.
var ErrNoPython error = errNoPython{}

// valueFlags are the flags of `socklab run` that take a value in the next
// argument when it is not given with "=".
var valueFlags = map[string]bool{"format": true, "layout": true, "delay": true, "pcap": true, "lang": true, "color": true,
	"message": true, "reply": true, "clients": true}

// TraceArgs turns the arguments of `socklab run [LESSON] --python [flags]`
// into those of the `socklab trace` that plays the lesson's twin: its
// flags, the lesson's expectation when expect says it has one (not with
// --web, which takes none), and the twin's commands. It writes the twin
// into a temporary directory, which cleanup removes; def is the lesson
// when none is named. Its errors are a *UsageError or ErrNoPython, or
// the temporary file's.
func TraceArgs(args []string, def string, expect func(lesson string) bool) (trace []string, cleanup func(), err error) {
	name, flags := def, []string(nil)
	for i := 0; i < len(args); i++ {
		a := args[i]
		f := strings.TrimLeft(a, "-")
		switch {
		case a == "--python" || a == "-python":
			continue
		case !strings.HasPrefix(a, "-"):
			name = a
			continue
		case f == "message" || f == "reply" || f == "clients" || strings.HasPrefix(f, "message=") || strings.HasPrefix(f, "reply=") || strings.HasPrefix(f, "clients="):
			opt := "--" + strings.SplitN(f, "=", 2)[0]
			return nil, nil, &UsageError{Key: "err.unused_option", Hint: "hint.unused_option", Args: []any{name + " --python", opt}}
		case valueFlags[f] && i+1 < len(args):
			flags = append(flags, a, args[i+1])
			i++
			continue
		}
		flags = append(flags, a)
	}
	tw, ok := Lookup(name)
	if !ok {
		var names []string
		for _, t := range twins {
			names = append(names, t.Lesson)
		}
		return nil, nil, &UsageError{Key: "err.no_twin", Hint: "hint.no_twin", Args: []any{name}, HintArgs: []any{strings.Join(names, ", ")}}
	}
	if _, err := exec.LookPath("python3"); err != nil || ptrace.Supported() != nil {
		return nil, nil, ErrNoPython
	}
	dir, err := os.MkdirTemp("", "socklab-python-")
	if err != nil {
		return nil, nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	path, err := tw.Write(dir)
	addr := filepath.Join(dir, "socket")
	if err == nil && !tw.Path {
		addr, err = freePort(tw.Lesson == "ipv6")
	}
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	web := false
	for _, f := range flags {
		web = web || f == "--web" || f == "-web" || strings.HasPrefix(f, "--web=")
	}
	if expect(tw.Lesson) && !web {
		flags = append(flags, "--expect", tw.Lesson)
	}
	server, client, program := tw.Commands(path, addr)
	if program != "" {
		return append(flags, "--all", "--", "python3", path), cleanup, nil
	}
	return append(flags, "--server", server, "--client", client), cleanup, nil
}

// freePort returns a port free on loopback now (IPv6's if v6).
func freePort(v6 bool) (string, error) {
	network, addr := "tcp4", "127.0.0.1:0"
	if v6 {
		network, addr = "tcp6", "[::1]:0"
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		return "", fmt.Errorf("a free port: %w", err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}

// StepSource says which lines of the basic twin make step n, as
// "basic.py:12  conn, address = s.accept()", one a line.
func StepSource(n int) []string {
	tw, _ := Lookup("basic")
	var out []string
	for _, l := range tw.StepLines()[n] {
		out = append(out, fmt.Sprintf("%s:%d  %s", tw.File(), l.N, l.Text))
	}
	return out
}
