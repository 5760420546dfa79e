package ptrace

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/socklab/socklab/trace"
)

// sitecustomize is the Python module that names, for each socket call of
// a traced Python program, the program's line that made it (see the file).
// Each session writes it into a directory of its own, put first on the
// programs' PYTHONPATH (Options.NoSource leaves it out).
//
//go:embed sitecustomize.py
var sitecustomize []byte

// sourceDir writes sitecustomize.py into a new temporary directory.
func sourceDir() (string, error) {
	dir, err := os.MkdirTemp("", "socklab-source-")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "sitecustomize.py"), sitecustomize, 0o644); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// withPythonPath returns env with dir first on PYTHONPATH.
func withPythonPath(env []string, dir string) []string {
	out := make([]string, 0, len(env)+1)
	path := dir
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PYTHONPATH="); ok {
			if v != "" {
				path += string(os.PathListSeparator) + v
			}
			continue
		}
		out = append(out, kv)
	}
	return append(out, "PYTHONPATH="+path)
}

// A mailbox is where a thread of a traced Python program writes the line
// it is at when it makes a socket call: its address and size.
type mailbox struct {
	addr uint64
	size int
}

// parseAnnouncement reads the write(-1, "M <addr> <size>") with which a
// thread announces its mailbox.
func parseAnnouncement(b []byte) (mailbox, bool) {
	f := strings.Fields(string(b))
	if len(f) != 3 || f[0] != "M" {
		return mailbox{}, false
	}
	addr, err1 := strconv.ParseUint(f[1], 16, 64)
	size, err2 := strconv.Atoi(f[2])
	if err1 != nil || err2 != nil || addr == 0 || size <= 0 || size > 4096 {
		return mailbox{}, false
	}
	return mailbox{addr, size}, true
}

// parseSource reads a mailbox: "FILE\x00LINE\x00TEXT\x00", or an empty
// string when the thread is in no socket call of its own.
func parseSource(b []byte) (trace.Source, bool) {
	parts := strings.SplitN(string(b), "\x00", 4)
	if len(parts) < 4 || parts[0] == "" {
		return trace.Source{}, false
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil {
		return trace.Source{}, false
	}
	return trace.Source{File: parts[0], Line: n, Text: parts[2]}, true
}

func (m mailbox) String() string { return fmt.Sprintf("M %x %d", m.addr, m.size) }
