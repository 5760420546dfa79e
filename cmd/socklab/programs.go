package main

import (
	"os"
	"path/filepath"
	"time"

	"github.com/socklab/socklab/internal/progio"
	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/ptrace"
)

// tracePrograms makes the programs socklab trace runs: argv (after --),
// or a server and its clients, each split as sh splits words.
func tracePrograms(argv []string, server string, clients []string, input bool, e *env) ([]ptrace.Program, error) {
	switch {
	case len(argv) > 0 && (server != "" || len(clients) > 0):
		return nil, usage("hint.trace_command", "err.trace_both")
	case len(argv) > 0:
		return []ptrace.Program{{Argv: argv}}, nil
	case server == "" && len(clients) > 0:
		return nil, usage("hint.trace_command", "err.trace_client_alone")
	case server == "" && input:
		return nil, usage("hint.trace_command", "err.trace_input_alone")
	case server == "":
		return nil, usage("hint.trace_command", "err.trace_no_command")
	}
	words, err := commandWords(server)
	if err != nil {
		return nil, usage("hint.trace_quote", "err.trace_quote", "--server", say(e.lang, err))
	}
	programs := []ptrace.Program{{Argv: words, Role: trace.Server}}
	for _, cl := range clients {
		words, err := commandWords(cl)
		if err != nil {
			return nil, usage("hint.trace_quote", "err.trace_quote", "--client", say(e.lang, err))
		}
		programs = append(programs, ptrace.Program{Argv: words, Role: trace.Client})
	}
	return programs, nil
}

// programFiles are the programs' standard streams that socklab opened:
// their input files, the pipes their output is prefixed through, and the
// standard inputs held quiet under --step.
type programFiles struct {
	opened    []*os.File
	prefixers []*progio.Prefixer
	quiet     []*os.File
}

// programIO gives each program its standard streams. Input: the server
// (or the one program) keeps socklab's, or reads --server-input; a client
// reads --client-input, or /dev/null. Under --step, a program whose input
// would be the terminal that the keys come from reads a pipe instead,
// closed with a warning when it reads (ptrace.PlayOptions.QuietStdin).
// Output: each line a program writes on its standard output or error is
// written whole, prefixed with its name ("server| …"), to socklab's
// standard output on a terminal, or to its standard error otherwise (the
// trace's data stays the trace's). Python writes its lines as it prints
// them (PYTHONUNBUFFERED=1): they come in order with the trace.
func (c *command) programIO(programs []ptrace.Program, serverInput, clientInput string) (*programFiles, error) {
	f := &programFiles{quiet: make([]*os.File, len(programs))}
	out := c.env.stderr
	if c.env.termWidth != 0 {
		out = c.env.stdout
	}
	for i := range programs {
		p := &programs[i]
		name, input, flag := programName(i), clientInput, "--client-input"
		if i == 0 {
			input, flag = serverInput, "--server-input"
			if p.Role == "" {
				name = filepath.Base(p.Argv[0])
			}
		}
		switch {
		case input != "":
			in, err := os.Open(input)
			if err != nil {
				f.close()
				return nil, failure("", "err.trace_input", flag, err.Error())
			}
			f.opened = append(f.opened, in)
			p.Stdin = in
		case i > 0:
			// A client's standard input is not the terminal: the server
			// has it (the tutorial's server asks for its reply there).
			p.Stdin = devNull()
			f.opened = append(f.opened, p.Stdin)
		case c.step && c.env.stdinTerminal:
			r, w, err := os.Pipe()
			if err != nil {
				f.close()
				return nil, failure("", "err.trace_input", flag, err.Error())
			}
			f.opened = append(f.opened, r)
			p.Stdin, f.quiet[i] = r, w
		}
		pre, err := progio.New(out, name)
		if err != nil {
			f.close()
			return nil, failure("", "err.trace_start", p.Argv[0], err.Error())
		}
		f.prefixers = append(f.prefixers, pre)
		p.Stdout, p.Stderr = pre.File, pre.File
		p.Env = append(os.Environ(), "PYTHONUNBUFFERED=1")
	}
	return f, nil
}

// close closes what programIO opened, once the programs have ended, and
// waits a moment for their last lines.
func (f *programFiles) close() {
	for _, p := range f.prefixers {
		p.Wait(time.Second)
	}
	f.prefixers = nil
	for _, o := range append(f.opened, f.quiet...) {
		if o != nil {
			o.Close()
		}
	}
	f.opened, f.quiet = nil, nil
}
