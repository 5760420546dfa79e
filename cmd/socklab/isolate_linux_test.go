package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A server that closes first leaves its port in TIME_WAIT: the next run's
// bind fails, and the check says why, with the seconds left, before any
// ✗ row. With --isolate the next run has a network of its own, and passes.
func TestTraceIsolateAndTimeWait(t *testing.T) {
	needPython3(t)
	if os.Getuid() != 0 {
		t.Skip("--isolate needs root")
	}
	server := filepath.Join(t.TempDir(), "first.py")
	// It replies, then closes at once: it closes first.
	if err := os.WriteFile(server, []byte(`import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
conn, addr = s.accept()
conn.recv(1024)
conn.sendall(b"got it")
conn.close()
s.close()
`), 0o644); err != nil {
		t.Fatal(err)
	}
	// The client reads until the server's end of file before it closes,
	// so the server's FIN is first whatever the timing, and the TIME_WAIT
	// is the server's port's (with the tutorial's client, which closes
	// once it has the reply, either side could close first: the third
	// run then found the port free, once in CI).
	client := filepath.Join(t.TempDir(), "client.py")
	if err := os.WriteFile(client, []byte(`import socket, sys
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
c.connect(("127.0.0.1", int(sys.argv[1])))
c.sendall("你好, server".encode("utf-8"))
print(c.recv(1024).decode("utf-8"))
while c.recv(1024):
    pass
c.close()
`), 0o644); err != nil {
		t.Fatal(err)
	}
	port := unusedPort(t)
	args := []string{"--server", "python3 " + server + " " + port, "--client", "python3 " + client + " " + port,
		"--expect", "basic", "--color=never", "--layout=lines"}
	for run := 1; run <= 2; run++ {
		// The first, not isolated, leaves TIME_WAIT on the port; the
		// second, isolated, does not see it.
		a := args
		if run == 2 {
			a = append([]string{"--isolate"}, args...)
		}
		stdout, stderr, code := socklabTrace(t, "", a...)
		if run == 1 && !strings.Contains(stdout, "✓  2      server   bind") {
			t.Fatalf("run %d: the first bind failed:\n%s%s", run, stdout, stderr)
		}
		if run == 2 && (code != 0 || !strings.Contains(stdout, "✓  2      server   bind")) {
			t.Errorf("run %d (--isolate): exit %d, bind not made:\n%s%s", run, code, stdout, stderr)
		}
	}
	// Not isolated, the port is still held.
	stdout, stderr, code := socklabTrace(t, "", args...)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	want := "→ the server's bind to 127.0.0.1:" + port + " failed: EADDRINUSE — the port is held by a connection in TIME_WAIT from an earlier run ("
	if !strings.Contains(stdout, want) || !strings.Contains(stdout, "s left): wait, set SO_REUSEADDR, or run with --isolate") {
		t.Errorf("no %q in:\n%s%s", want, stdout, stderr)
	}
}
