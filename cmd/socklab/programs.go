package main

import (
	"errors"
	"path/filepath"

	"github.com/socklab/socklab/internal/progio"
	"github.com/socklab/socklab/internal/shellwords"
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
	words, err := shellwords.Command(server)
	if err != nil {
		return nil, usage("hint.trace_quote", "err.trace_quote", "--server", say(e.lang, err))
	}
	programs := []ptrace.Program{{Argv: words, Role: trace.Server}}
	for _, cl := range clients {
		words, err := shellwords.Command(cl)
		if err != nil {
			return nil, usage("hint.trace_quote", "err.trace_quote", "--client", say(e.lang, err))
		}
		programs = append(programs, ptrace.Program{Argv: words, Role: trace.Client})
	}
	return programs, nil
}

// programIO gives each program its standard streams (progio.Open).
// Input: the server (or the one program) keeps socklab's, or reads
// --server-input; a client reads --client-input, or /dev/null. Under
// --step, a program whose input would be the terminal that the keys come
// from reads a pipe instead, closed with a warning when it reads
// (ptrace.PlayOptions.QuietStdin). Output: each line a program writes on
// its standard output or error is written whole, after its name
// ("server| …"), to socklab's standard output on a terminal, or to its
// standard error otherwise (the trace's data stays the trace's).
func (c *command) programIO(programs []ptrace.Program, serverInput, clientInput string) (*progio.Files, error) {
	cfg := progio.Config{Out: c.env.stderr, ServerInput: serverInput, ClientInput: clientInput,
		QuietServer: c.step && c.env.stdinTerminal}
	if c.env.termWidth != 0 {
		cfg.Out = c.env.stdout
	}
	for i, p := range programs {
		cfg.Names = append(cfg.Names, progio.Name(i))
		if p.Role == "" {
			cfg.Names[i] = filepath.Base(p.Argv[0])
		}
	}
	f, err := progio.Open(programs, cfg)
	var in *progio.InputError
	switch {
	case errors.As(err, &in):
		return nil, failure("", "err.trace_input", in.Flag, in.Err.Error())
	case err != nil:
		return nil, failure("", "err.trace_start", programs[0].Argv[0], err.Error())
	}
	return f, nil
}
