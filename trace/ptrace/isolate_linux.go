package ptrace

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// isolate moves the calling thread, the tracing thread, into a network
// namespace of its own and brings its loopback up. The programs the
// thread forks are born in it, and the kernel's view, asked from this
// thread (/proc/thread-self/net, sock_diag), reads its tables. The thread
// never leaves: it is locked for good, and the runtime ends it with its
// goroutine, and the namespace with the last process in it.
func isolate() error {
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		if errors.Is(err, unix.EPERM) {
			return ErrIsolateRefused
		}
		return fmt.Errorf("unshare(CLONE_NEWNET): %w", err)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	return nil
}

// userNSEnv marks a socklab that RerunIsolated started in a user
// namespace of its own.
const userNSEnv = "SOCKLAB_USERNS"

// RerunIsolated runs socklab again with args, when isolate asks for a
// network namespace and the user is not root: in a user namespace of its
// own (the user mapped to its root), where making the network namespace
// is allowed, as `unshare -Urn` does. A Go program cannot enter a user
// namespace itself (it has many threads); its child can be born in one.
// It returns the child's exit status, and rerun false when it did not
// run one (root, already inside, or the kernel refused: Start then says
// in one line that --isolate needs root).
func RerunIsolated(isolate bool, args []string, stdin io.Reader, stdout, stderr io.Writer) (code int, rerun bool) {
	if !isolate || os.Geteuid() == 0 || os.Getenv(userNSEnv) != "" {
		return 0, false
	}
	self, err := os.Executable()
	if err != nil {
		return 0, false
	}
	cmd := exec.Command(self, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.Env = append(os.Environ(), userNSEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		Pdeathsig:   syscall.SIGKILL,
	}
	// Ctrl-C reaches the child too (the same process group): the parent
	// only waits for it.
	if err := cmd.Start(); err != nil {
		return 0, false
	}
	cmd.Wait()
	return cmd.ProcessState.ExitCode(), true
}

// CanIsolate reports whether a network namespace of its own can be made
// for a run here: as root, or in a user namespace (RerunIsolated), which
// the kernel may refuse (a sysctl, AppArmor on Ubuntu 24.04).
func CanIsolate() error {
	if os.Geteuid() == 0 {
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, "list") // anything: the clone is the question
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w, and this system refuses a user namespace (%v)", ErrIsolateRefused, err)
	}
	return nil
}
