package kernelview

import "golang.org/x/sys/unix"

// darwinStates names macOS's TCP states (netinet/tcp_fsm.h), spelled as on
// Linux so that lessons read the same.
var darwinStates = [...]string{
	0: "CLOSED", 1: "LISTEN", 2: "SYN_SENT", 3: "SYN_RECV", 4: "ESTABLISHED", 5: "CLOSE_WAIT",
	6: "FIN_WAIT1", 7: "CLOSING", 8: "LAST_ACK", 9: "FIN_WAIT2", 10: "TIME_WAIT",
}

func sysTCPState(fd int) (string, bool) {
	info, err := unix.GetsockoptTCPConnectionInfo(fd, unix.IPPROTO_TCP, unix.TCP_CONNECTION_INFO)
	if err != nil || int(info.State) >= len(darwinStates) {
		return "", false
	}
	return darwinStates[info.State], true
}

// sysOpenTCPTable: macOS has no /proc; its table (sysctl
// net.inet.tcp.pcblist) is not read yet, so states after close are not
// shown there.
func sysOpenTCPTable(bool) tcpTable { return nil }

// sysDelivery: TCP_CONNECTION_INFO has no count of unacknowledged
// segments that socklab reads yet; only a reset is seen.
func sysDelivery(fd int) (state string, unacked int, ok bool) {
	state, ok = sysTCPState(fd)
	return state, 1, ok && state == "CLOSED"
}
