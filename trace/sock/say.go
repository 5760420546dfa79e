package sock

import (
	"errors"
	"syscall"

	"github.com/socklab/socklab/trace/i18n"
)

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
	if e.Addr != "" {
		text = l.T("err.call_addr", e.Call, e.Addr, why)
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
