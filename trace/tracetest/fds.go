package tracetest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
)

// Descriptors is a snapshot of the process's open descriptors: each
// number with what it refers to ("socket:[4711]", a path), where the
// system tells.
type Descriptors map[int]string

// OpenDescriptors takes the snapshot, from /proc/self/fd (or /dev/fd on
// macOS); it fails where the system has neither.
func OpenDescriptors() (Descriptors, error) {
	dir := "/proc/self/fd"
	if runtime.GOOS == "darwin" {
		dir = "/dev/fd"
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	fds := Descriptors{}
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		// macOS's /dev/fd entries are not links: there the number alone
		// is compared.
		target, _ := os.Readlink(filepath.Join(dir, e.Name()))
		fds[n] = target
	}
	return fds, nil
}

// Leaked lists, as "fd 7 (socket:[4711])", the descriptors open in after
// that were not open in before (or now refer to something else). A
// descriptor closed in between is not a leak: an earlier test's socket
// closed by the garbage collector's finalizer lowers the count without
// being this test's doing, so counts alone are not compared.
func (before Descriptors) Leaked(after Descriptors) []string {
	var leaked []string
	for fd, target := range after {
		if before[fd] != target {
			leaked = append(leaked, fmt.Sprintf("fd %d (%s)", fd, target))
		}
	}
	slices.Sort(leaked)
	return leaked
}
