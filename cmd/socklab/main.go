// Command socklab runs real TCP sockets and traces their lifecycle, step by
// step, as the classic 11-step lesson plan numbers it.
//
// Usage:
//
//	socklab                 run the basic lesson
//	socklab run [LESSON]    run a lesson
//	socklab list            list the lessons
//
// Run `socklab --help` for the flags.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/fatih/color"
	"github.com/mattn/go-isatty"
	"golang.org/x/term"

	"github.com/socklab/socklab/trace/i18n"
	"github.com/socklab/socklab/trace/ptrace"
)

// terminalWidth returns the width of the terminal standard output is, or 0.
func terminalWidth() int {
	if w, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil {
		return w
	}
	return 0
}

func main() {
	// socklab trace starts each traced program as socklab itself, which
	// installs the seccomp filter and execs the program (trace/ptrace).
	ptrace.RunTraceeIfAsked()
	os.Exit(mainExit())
}

// mainExit wires the process to the command: arguments, standard streams,
// signals and the colour decision. Everything else lives in run.
func mainExit() int {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)

	// Ctrl-C or SIGTERM cancels the context; every blocked socket call is
	// then woken, every socket closed (and traced), and run returns.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	go func() {
		select {
		case sig := <-signals:
			// A second Ctrl-C should not wait for a clean stop: from now
			// on, signals have their default effect again.
			signal.Stop(signals)
			cancel(signalError{sig})
		case <-ctx.Done():
		}
	}()

	return run(ctx, os.Args[1:], env{
		stdin:  os.Stdin,
		stdout: os.Stdout,
		stderr: os.Stderr,
		// A prompt makes sense only when a person types the answer.
		stdinTerminal: isatty.IsTerminal(os.Stdin.Fd()) || isatty.IsCygwinTerminal(os.Stdin.Fd()),
		// fatih/color decided this once, at init: on only when standard
		// output is a terminal, NO_COLOR is unset and TERM is not dumb.
		terminalColor: !color.NoColor,
		lang:          i18n.FromEnv(os.Getenv),
		termWidth:     terminalWidth(),
	})
}
