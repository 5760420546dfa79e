//go:build !linux

package kernelview

// Elsewhere than Linux the queues are not read yet (macOS's FIONREAD
// counts a datagram socket's whole buffer, not its next datagram): the
// Begin lines say what the call usually does.

func sysAcceptQueue(int) (int, bool)  { return 0, false }
func sysBytesWaiting(int) (int, bool) { return 0, false }
