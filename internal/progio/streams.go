package progio

import (
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/socklab/socklab/trace/ptrace"
)

// Config says where the traced programs' standard streams come from and
// where their lines go.
type Config struct {
	Out   io.Writer // where every program's lines go
	Names []string  // each program's name, before its lines
	// ServerInput and ClientInput name the files the server (the first
	// program) and each client read as standard input; "" keeps the
	// server's socklab's own, and gives a client /dev/null.
	ServerInput, ClientInput string
	// QuietServer gives the server, when it has no ServerInput, a pipe
	// for standard input instead of socklab's (Files.Quiet holds its
	// write end): under --step the terminal's keys are socklab's.
	QuietServer bool
}

// Files are the streams Open made for the programs.
type Files struct {
	opened    []*os.File
	prefixers []*Prefixer
	// Quiet holds, per program, the write end of the pipe it reads as
	// standard input, where QuietServer made one (ptrace.PlayOptions'
	// QuietStdin).
	Quiet []*os.File
	tails [][]string
}

// An InputError is an input file that could not be opened: Flag is
// "--server-input" or "--client-input".
type InputError struct {
	Flag string
	Err  error
}

func (e *InputError) Error() string { return e.Flag + ": " + e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Open gives each program its standard streams, as c says: its input,
// and its output and error through a Prefixer. Python programs write
// their lines as they print them (PYTHONUNBUFFERED=1), so that they come
// in order with the trace.
func Open(programs []ptrace.Program, c Config) (*Files, error) {
	f := &Files{Quiet: make([]*os.File, len(programs))}
	for i := range programs {
		p := &programs[i]
		input, flag := c.ClientInput, "--client-input"
		if i == 0 {
			input, flag = c.ServerInput, "--server-input"
		}
		switch {
		case input != "":
			in, err := os.Open(input)
			if err != nil {
				f.Close()
				return nil, &InputError{flag, err}
			}
			f.opened = append(f.opened, in)
			p.Stdin = in
		case i > 0:
			// A client's standard input is not the terminal: the server
			// has it (the tutorial's server asks for its reply there).
			in, err := os.Open(os.DevNull)
			if err != nil {
				f.Close()
				return nil, &InputError{flag, err}
			}
			f.opened = append(f.opened, in)
			p.Stdin = in
		case c.QuietServer:
			r, w, err := os.Pipe()
			if err != nil {
				f.Close()
				return nil, &InputError{flag, err}
			}
			f.opened = append(f.opened, r)
			p.Stdin, f.Quiet[i] = r, w
		}
		pre, err := New(c.Out, c.Names[i])
		if err != nil {
			f.Close()
			return nil, err
		}
		f.prefixers = append(f.prefixers, pre)
		p.Stdout, p.Stderr = pre.File, pre.File
		p.Env = append(os.Environ(), "PYTHONUNBUFFERED=1")
	}
	return f, nil
}

// Tails returns each program's last lines (Prefixer.Tail), in the
// programs' order. Call it after Close: the last lines are in.
func (f *Files) Tails() [][]string {
	return f.tails
}

// Close closes what Open opened, once the programs have ended, after
// waiting a moment for their last lines. It may be called again.
func (f *Files) Close() {
	for _, p := range f.prefixers {
		p.Wait(time.Second)
		f.tails = append(f.tails, p.Tail())
	}
	f.prefixers = nil
	for _, o := range append(f.opened, f.Quiet...) {
		if o != nil {
			o.Close()
		}
	}
	f.opened, f.Quiet = nil, nil
}

// Name is the name of the i-th program of --server/--client, before its
// lines and in the report of its end: server, client, client-2, …
func Name(i int) string {
	switch i {
	case 0:
		return "server"
	case 1:
		return "client"
	}
	return "client-" + strconv.Itoa(i)
}

// ReportExits says, through warn (a catalogue key and its arguments, one
// line each), how each program ended, as a shell would: its exit status,
// or the signal that ended it.
func ReportExits(warn func(key string, args ...any), exits []ptrace.Exit) {
	for i, x := range exits {
		if x.Signal != 0 {
			warn("msg.trace_signaled", Name(i), strings.Join(x.Argv, " "), ptrace.SignalName(x.Signal), x.Code)
			continue
		}
		warn("msg.trace_exited", Name(i), strings.Join(x.Argv, " "), x.Code)
	}
}

// WarnUntraced says, through warn (a catalogue key and its arguments),
// what of each program socklab could not trace: a 32-bit program, calls
// made through an io_uring, or no socket call at all.
func WarnUntraced(warn func(key string, args ...any), exits []ptrace.Exit) {
	for _, x := range exits {
		if x.Untraced32 {
			warn("warn.32bit", strings.Join(x.Argv, " "))
		}
		if x.IOUring {
			warn("warn.io_uring", strings.Join(x.Argv, " "))
		}
		if x.Shown == 0 && !x.Killed {
			warn("warn.no_socket_calls", strings.Join(x.Argv, " "))
		}
	}
}

// Status is the programs' own status, as a shell reports it: the first
// that failed (the server's before the clients'), else 0. A server that
// socklab stopped (stopped, its signal) has not failed.
func Status(exits []ptrace.Exit, stopped syscall.Signal) int {
	for i, x := range exits {
		if i == 0 && stopped != 0 {
			continue
		}
		if x.Code != 0 {
			return x.Code
		}
	}
	return 0
}
