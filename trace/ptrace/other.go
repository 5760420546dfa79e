//go:build !linux

package ptrace

import (
	"io"
	"syscall"

	"github.com/socklab/socklab/trace"
)

// RunTraceeIfAsked does nothing where socklab trace does not exist.
func RunTraceeIfAsked() {}

// Supported reports why socklab trace does not work here.
func Supported() error { return ErrUnsupported }

// A Session is not available on this system.
type Session struct{}

// Start returns ErrUnsupported.
func Start(*trace.Tracer, Options) (*Session, error) { return nil, ErrUnsupported }

func (*Session) Launch(Program) (int, error)       { return 0, ErrUnsupported }
func (*Session) Wait() []Exit                      { return nil }
func (*Session) Done() <-chan struct{}             { return nil }
func (*Session) LeftOpen() []LeftOpen              { return nil }
func (*Session) Signal(syscall.Signal)             {}
func (*Session) Kill()                             {}
func (*Session) Ended(...int) bool                 { return true }
func (*Session) Blocked(int) trace.Op              { return "" }
func (*Session) Idle(int) bool                     { return false }
func (*Session) Held(int) bool                     { return false }
func (*Session) Acted(int) int                     { return 0 }
func (*Session) ReadsTerminal(int) bool            { return false }
func (*Session) SignalProgram(int, syscall.Signal) {}
func (*Session) programsEnded([]int) bool          { return true }
func (*Session) ReadsStdin(int) bool               { return false }

// RerunIsolated runs nothing here.
func RerunIsolated(bool, []string, io.Reader, io.Writer, io.Writer) (int, bool) { return 0, false }

// CanIsolate returns ErrUnsupported.
func CanIsolate() error { return ErrUnsupported }

// Resolve returns ErrUnsupported.
func Resolve(string) (string, error) { return "", ErrUnsupported }

// SignalName names sig.
func SignalName(sig syscall.Signal) string { return sig.String() }
