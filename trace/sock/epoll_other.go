//go:build !linux

package sock

// epoll is Linux's: CreateEpoll fails with ErrNoEpoll before any call.

const hasEpoll = false

func sysEpollCreate() (int, error)                { return -1, ErrNoEpoll }
func sysEpollCtl(int, bool, int, int) error       { return ErrNoEpoll }
func sysEpollWait(int, int) ([]int, []int, error) { return nil, nil, ErrNoEpoll }
