package sock

import "golang.org/x/sys/unix"

const hasEpoll = true

func sysEpollCreate() (int, error) { return unix.EpollCreate1(unix.EPOLL_CLOEXEC) }

func sysEpollCtl(epfd int, remove bool, fd, events int) error {
	if remove {
		return unix.EpollCtl(epfd, unix.EPOLL_CTL_DEL, fd, nil)
	}
	ev := unix.EpollEvent{Fd: int32(fd)}
	if events&pollIn != 0 {
		ev.Events |= unix.EPOLLIN
	}
	if events&pollOut != 0 {
		ev.Events |= unix.EPOLLOUT
	}
	return unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &ev)
}

// sysEpollWait waits with no timeout for at most max ready descriptors,
// and returns them with what each became ready for.
func sysEpollWait(epfd, max int) (fds, revents []int, err error) {
	evs := make([]unix.EpollEvent, max)
	n, err := unix.EpollWait(epfd, evs, -1)
	for _, ev := range evs[:max0(n)] {
		r := 0
		if ev.Events&unix.EPOLLIN != 0 {
			r |= pollIn
		}
		if ev.Events&unix.EPOLLOUT != 0 {
			r |= pollOut
		}
		if ev.Events&(unix.EPOLLHUP|unix.EPOLLRDHUP) != 0 {
			r |= pollHup
		}
		if ev.Events&unix.EPOLLERR != 0 {
			r |= pollErr
		}
		fds, revents = append(fds, int(ev.Fd)), append(revents, r)
	}
	return fds, revents, err
}

func max0(n int) int { return max(n, 0) }
