package kernelview

import "golang.org/x/sys/unix"

// tcpListen is Linux's number for the LISTEN state (include/net/tcp_states.h).
const tcpListen = 10

func sysAcceptQueue(fd int) (int, bool) {
	info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil || info.State != tcpListen {
		return 0, false
	}
	return int(info.Unacked), true
}

func sysBytesWaiting(fd int) (int, bool) {
	n, err := unix.IoctlGetInt(fd, unix.SIOCINQ)
	return n, err == nil
}
