package sock

import (
	"errors"
	"syscall"

	"github.com/socklab/socklab/trace/i18n"
)

// ErrInterrupted is wrapped by the error of a call woken because its context
// was done.
var ErrInterrupted = errors.New("interrupted")

// ErrClosed is returned by any call on a socket that was already closed; no
// syscall is made and nothing is traced.
var ErrClosed = errors.New("socket already closed")

// ErrUnsupported is returned by [Create] on systems socklab cannot trace.
var ErrUnsupported error = unsupportedError{}

// A CallError is the error of a traced call: which call, on what address
// (if it had one), and the error, usually a syscall.Errno.
type CallError struct {
	Call string // "bind", "connect", "read", …
	// Arg is what the call was about besides its descriptor, as strace
	// shows it: the address it named (bind, connect, sendto), or its
	// other argument (shutdown's SHUT_WR, fcntl's command); "" if none.
	Arg string
	Err error
}

func (e *CallError) Error() string {
	if e.Arg != "" {
		return e.Call + " " + e.Arg + ": " + e.Err.Error()
	}
	return e.Call + ": " + e.Err.Error()
}

func (e *CallError) Unwrap() error { return e.Err }

// Say says which call failed, how, and what to try (i18n.Sayer). A call
// interrupted by a cause that says itself (a stall, a time limit) says the
// cause: the call's failure only followed from it.
func (e *CallError) Say(l i18n.Lang) string {
	var cause i18n.Sayer
	if errors.As(e.Err, &cause) {
		return cause.Say(l)
	}
	why := e.Err.Error()
	name := ErrnoName(e.Err)
	if name != "" {
		if l.Has("errno." + name) {
			why = l.T("errno." + name)
		} else {
			var errno syscall.Errno
			if errors.As(e.Err, &errno) {
				why = errno.Error()
			}
		}
		why = l.T("err.errno", why, name)
	}
	text := l.T("err.call", e.Call, why)
	if e.Arg != "" {
		text = l.T("err.call_addr", e.Call, e.Arg, why)
	}
	if name != "" && l.Has("hint."+name) {
		text = l.T("line.hint", text, l.T("hint."+name))
	}
	return text
}

// unsupportedError is ErrUnsupported: it is errors.ErrUnsupported, and
// says itself.
type unsupportedError struct{}

func (unsupportedError) Error() string {
	return "socklab needs a Unix-like system (Linux or macOS): " + errors.ErrUnsupported.Error()
}

func (unsupportedError) Unwrap() error { return errors.ErrUnsupported }

// Say says that socklab cannot trace sockets on this system (i18n.Sayer).
func (unsupportedError) Say(l i18n.Lang) string { return l.T("err.unsupported") }
