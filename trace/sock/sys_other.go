//go:build !(linux || darwin)

package sock

import (
	"net/netip"
	"time"
)

// On systems other than Linux and macOS, Create fails with ErrUnsupported,
// so no other call is ever reached.

const acceptSyscall = "accept"

const (
	pollSyscall            = "poll"
	pollForever            = "-1"
	acceptInheritsNonblock = false
)

// supported: socklab cannot trace sockets here.
const supported = false

func sysSocket(Kind, bool) (int, error)           { return -1, ErrUnsupported }
func sysBindPath(int, string) error               { return ErrUnsupported }
func sysConnectPath(int, string) error            { return ErrUnsupported }
func sysSendTo(int, []byte, netip.AddrPort) error { return ErrUnsupported }
func sysRecvFrom(int, []byte) (int, netip.AddrPort, error) {
	return 0, netip.AddrPort{}, ErrUnsupported
}
func sysBind(int, netip.AddrPort) error          { return ErrUnsupported }
func sysConnect(int, netip.AddrPort) error       { return ErrUnsupported }
func sysGetsockname(int) (netip.AddrPort, error) { return netip.AddrPort{}, ErrUnsupported }
func sysAccept(int) (int, netip.AddrPort, error) { return -1, netip.AddrPort{}, ErrUnsupported }
func unixListen(int, int) error                  { return ErrUnsupported }
func unixRead(int, []byte) (int, error)          { return 0, ErrUnsupported }
func unixWrite(int, []byte) (int, error)         { return 0, ErrUnsupported }
func unixClose(int) error                        { return ErrUnsupported }
func unixShutdown(int, How) error                { return ErrUnsupported }
func isEINTR(error) bool                         { return false }
func isENOTCONN(error) bool                      { return false }
func errnoOf(error) (string, bool)               { return "", false }
func sysSetLinger(int, int, int) error           { return ErrUnsupported }
func sysSetReuseAddr(int, int) error             { return ErrUnsupported }
func sysSetRecvTimeout(int, time.Duration) error { return ErrUnsupported }

func sysSetNonblock(int) error              { return ErrUnsupported }
func sysDupForPoller(int, int) (int, error) { return -1, ErrUnsupported }
func isEINVAL(error) bool                   { return false }
func isEAGAIN(error) bool                   { return false }

func isEINPROGRESS(error) bool                      { return false }
func sysSocketError(int) (int, error, error)        { return 0, nil, ErrUnsupported }
func sysPoll(fds, events []int) (int, []int, error) { return 0, nil, ErrUnsupported }
