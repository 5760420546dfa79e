//go:build unix

package grade

import (
	"os/exec"
	"syscall"
)

// ownGroup puts cmd in a process group of its own, killed whole when its
// context ends: the trace, and whatever escaped it.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
