package main

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/socklab/socklab/internal/report"
	"github.com/socklab/socklab/lessons"
	"github.com/socklab/socklab/trace/i18n"
	"github.com/socklab/socklab/trace/sock"
)

// A message is an error that knows how to say itself in any language: a
// catalogue key with its arguments, and maybe the key of a hint.
type message struct {
	key      string
	args     []any
	hint     string // a key, or ""
	hintArgs []any
	usage    bool // a mistake in the command line: exit status 2
}

func (m *message) Error() string { return m.Say(i18n.EN) }

// Say says the message in l (i18n.Sayer).
func (m *message) Say(l i18n.Lang) string {
	text := l.T(m.key, m.args...)
	if m.hint != "" {
		text = l.T("line.hint", text, l.T(m.hint, m.hintArgs...))
	}
	return text
}

// usage returns a usage error: key and args say what is wrong, hint what
// to try.
func usage(hint, key string, args ...any) *message {
	return &message{key: key, args: args, hint: hint, usage: true}
}

// failure returns the error of something that went wrong at run time.
func failure(hint, key string, args ...any) *message {
	return &message{key: key, args: args, hint: hint}
}

func (m *message) withHintArgs(args ...any) *message {
	m.hintArgs = args
	return m
}

// say renders an error in l: what went wrong and, where we know, what to
// try, on one line. Each error says itself (i18n.Sayer), wherever it is in
// the chain; errors that came together (errors.Join: peers that failed at
// once) are said each in turn.
func say(l i18n.Lang, err error) string {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var parts []string
		for _, e := range joined.Unwrap() {
			parts = append(parts, say(l, e))
		}
		return strings.Join(parts, l.T("line.join"))
	}
	// ErrLessonTooLong is a context cause of the lessons' reasonError
	// kind, which other causes with no sentence share: it cannot say
	// itself yet.
	if errors.Is(err, lessons.ErrLessonTooLong) {
		return l.T("line.hint", l.T("err.lesson_too_long", lessons.ProtocolBound), l.T("hint.lesson_too_long"))
	}
	var s i18n.Sayer
	if errors.As(err, &s) {
		return s.Say(l)
	}
	return err.Error()
}

// printError writes the one line that says what went wrong.
func (e *env) printError(text string) {
	fmt.Fprintln(e.stderr, e.lang.T("line.error", safeLine(text)))
}

// warn writes a line of the catalogue's to standard error, beside the
// trace: a warning, or what socklab does or waits for.
func (e *env) warn(key string, args ...any) {
	fmt.Fprintln(e.stderr, e.lang.T("line.error", e.lang.T(key, args...)))
}

// safeLine escapes whatever in an error line is not printable text
// (report.SafeLine).
var safeLine = report.SafeLine

// fileError says why a file could not be read or written, in l: in the
// error's own words if it says itself (a file that is not a trace), else
// the system's error by its errno, in words from the catalogue when it
// has them.
func fileError(l i18n.Lang, err error) string {
	var s i18n.Sayer
	if errors.As(err, &s) {
		return s.Say(l)
	}
	if name := sock.ErrnoName(err); name != "" && l.Has("errno."+name) {
		return l.T("errno."+name) + " (" + name + ")"
	}
	return err.Error()
}

// closedNote says where the closes of an interrupted run are: in the
// lines above, in the JSON trace, or nowhere, as no socket was made.
func (e *env) closedNote(key string, args ...any) string {
	switch {
	case e.made == nil || e.made.N() == 0:
		key += ".none"
	case !e.textTrace:
		key += ".data"
	}
	return e.lang.T(key, args...)
}

// signalError is the cause of a cancelled run when a signal stopped it.
type signalError struct{ sig os.Signal }

func (e signalError) Error() string { return "interrupted by " + signalName(i18n.EN, e.sig) }

// signalNames are the signals that stop a run, as the trace names them.
var signalNames = map[os.Signal]string{os.Interrupt: "SIGINT", syscall.SIGTERM: "SIGTERM"}

// Reason names the signal for the trace (sock.Reasoner): "SIGINT".
func (e signalError) Reason() string { return cmp.Or(signalNames[e.sig], e.sig.String()) }

func signalName(l i18n.Lang, sig os.Signal) string {
	if name, ok := signalNames[sig]; ok {
		return l.T("signal." + strings.ToLower(name))
	}
	return sig.String()
}

// exitCode is the shell's convention for a process a signal stopped.
func (e signalError) exitCode() int {
	if s, ok := e.sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return exitFailure
}

// exitError is an error that sets the exit status; msg, if not nil, is
// the line to print.
type exitError struct {
	code int
	msg  *message
}

func (e *exitError) Error() string {
	if e.msg == nil {
		return strconv.Itoa(e.code) // the status says it all
	}
	return e.msg.Error()
}

func (e *exitError) Unwrap() error {
	if e.msg == nil {
		return nil
	}
	return e.msg
}

func exitWith(code int, msg *message) error { return &exitError{code: code, msg: msg} }
