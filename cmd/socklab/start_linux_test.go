package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// socklabTraceWithin is socklabTrace bounded: a run that hangs fails in
// seconds, its programs killed with it.
func socklabTraceWithin(t *testing.T, d time.Duration, stdin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, socklabBinary(t), append([]string{"trace"}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("socklab trace %s did not end within %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), d, stdout.String(), stderr.String())
	}
	code := 0
	if exit := (*exec.ExitError)(nil); errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

func python(script string, args ...string) string {
	return strings.Join(append([]string{"python3", filepath.Join(tutorial, script)}, args...), " ")
}

// A UDP pair: the server never listens; its bind says it is ready, the
// client starts then, and the run ends by itself with the roles right.
func TestTraceUDPPair(t *testing.T) {
	needPython3(t)
	port := unusedPort(t)
	stdout, stderr, code := socklabTraceWithin(t, 15*time.Second, "",
		"--server", python("udp_server.py", port), "--client", python("udp_client.py", port), "--format=json")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	got := steps(t, stdout)
	if want := []int{1, 2, 10, 9, 11}; !slices.Equal(got["server"], want) {
		t.Errorf("server's steps: got %v, want %v\n%s", got["server"], want, stdout)
	}
	if want := []int{4, 9, 10, 11}; !slices.Equal(got["client"], want) {
		t.Errorf("client's steps: got %v, want %v\n%s", got["client"], want, stdout)
	}
	for _, want := range []string{"server (" + python("udp_server.py", port) + ") exited with status 0", "client (" + python("udp_client.py", port) + ") exited with status 0"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("no %q in:\n%s", want, stderr)
		}
	}
}

// One program that runs a UDP server and a client: the process that binds
// and receives first is the server, its bind before the client's send.
func TestTraceUDPRolesInOneProgram(t *testing.T) {
	needPython3(t)
	port := unusedPort(t)
	script := python("udp_server.py", port) + " & sleep 0.3; " + python("udp_client.py", port) + "; wait"
	stdout, stderr, code := socklabTraceWithin(t, 15*time.Second, "", "--format=json", "--", "sh", "-c", script)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	got := steps(t, stdout)
	if want := []int{1, 2, 10, 9, 11}; !slices.Equal(got["server"], want) {
		t.Errorf("server's steps: got %v, want %v\n%s", got["server"], want, stdout)
	}
	if want := []int{4, 9, 10, 11}; !slices.Equal(got["client"], want) {
		t.Errorf("client's steps: got %v, want %v\n%s", got["client"], want, stdout)
	}
	bind, send := strings.Index(stdout, `"op":"bind"`), strings.Index(stdout, `"op":"sendto"`)
	if bind < 0 || send < 0 || bind > send {
		t.Errorf("the server's bind is not before the client's send:\n%s", stdout)
	}
}

// socketserver's serve_forever waits in poll between clients and never
// ends by itself: once both clients are done, socklab stops it with
// SIGINT, says so, and reports how each program ended.
func TestTraceServeForeverEnds(t *testing.T) {
	needPython3(t)
	port := unusedPort(t)
	server, client := python("socketserver_server.py", port), python("line_client.py", port)
	stdout, stderr, code := socklabTraceWithin(t, 20*time.Second, "",
		"--server", server, "--client", client, "--client", client, "--format=json")
	if code != 0 {
		t.Fatalf("exit %d, want 0 (the server was stopped by socklab)\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"socklab sends it SIGINT",
		"server (" + server + ") was ended by SIGINT (status 130)",
		"client (" + client + ") exited with status 0",
		"client-2 (" + client + ") exited with status 0",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("no %q in:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "SIGTERM") {
		t.Errorf("SIGINT was not enough:\n%s", stderr)
	}
}

// Go's start-up probes (a socket made and closed, IPv6 sockets bound to
// port 0) are not the lesson's: a Go pair with --server/--client shows
// one create and one bind, of the socket it listens on, and no close
// before its listen.
func TestTraceGoPairHidesProbes(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("needs the go command")
	}
	bin := filepath.Join(t.TempDir(), "goprobes")
	build := exec.Command(gobin, "build", "-o", bin, ".")
	build.Dir = filepath.Join(tutorial, "goprobes")
	build.Env = append(os.Environ(), "GOFLAGS=", "CGO_ENABLED=0", "GO111MODULE=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	port := unusedPort(t)
	stdout, stderr, code := socklabTraceWithin(t, 20*time.Second, "",
		"--server", bin+" server "+port+` ""`, "--client", bin+" client "+port+" localhost", "--format=json")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	got := steps(t, stdout)
	if want := []int{1, 2, 3, 6, 8, 10, 9, 11}; !slices.Equal(got["server"], want) {
		t.Errorf("server's steps: got %v, want %v\n%s", got["server"], want, stdout)
	}
	// (Step 7 of a non-blocking connect is where the program learns it,
	// issue 24's other part: not asserted here.)
	if c := got["client"]; len(c) < 2 || c[0] != 4 || c[1] != 5 {
		t.Errorf("client's steps: got %v, want 4, 5 first\n%s", c, stdout)
	}
	if n := strings.Count(stdout, `"op":"create","phase":"begin"`); n != 2 {
		t.Errorf("%d sockets shown, want 2 (the listener, the client's)\n%s", n, stdout)
	}
	if strings.Contains(stdout, ":0\"") {
		t.Errorf("a probe's bind to port 0 is shown:\n%s", stdout)
	}
}

// A forking server's children are the server: the child that serves a
// connection is server-2, never a client; socketserver's forking server
// is stopped once its client is done.
func TestTraceForkingServerChildrenAreTheServer(t *testing.T) {
	needPython3(t)
	port := unusedPort(t)
	stdout, stderr, code := socklabTraceWithin(t, 20*time.Second, "",
		"--server", python("forking_socketserver.py", port), "--client", python("line_client.py", port), "--format=json")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	got := steps(t, stdout)
	if want := []int{10, 9, 11}; !slices.Equal(got["server-2"], want) {
		t.Errorf("the child's steps: got %v, want %v\n%s", got["server-2"], want, stdout)
	}
	if want := []int{4, 5, 7, 9, 10, 11}; !slices.Equal(got["client"], want) {
		t.Errorf("client's steps: got %v, want %v\n%s", got["client"], want, stdout)
	}
	for peer := range got {
		if peer != "server" && peer != "server-2" && peer != "client" {
			t.Errorf("peer %q: want server, server-2 (the child) and client only", peer)
		}
	}
	if !strings.Contains(stderr, "was ended by SIGINT") {
		t.Errorf("the forking server was not stopped by SIGINT:\n%s", stderr)
	}
}

// --server-input and --client-input give each program its standard input;
// the programs' lines come whole, after their names, never inside a trace
// line (without a terminal, on standard error).
func TestTraceProgramsInputAndOutput(t *testing.T) {
	needPython3(t)
	port := unusedPort(t)
	dir := t.TempDir()
	reply, answer := filepath.Join(dir, "reply.txt"), filepath.Join(dir, "answer.txt")
	if err := os.WriteFile(reply, []byte("pong\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(answer, []byte("from a file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	server := python("server.py", port)
	client := "python3 -c 'import sys, runpy; print(\"client read:\", sys.stdin.readline().strip(), flush=True); sys.argv = [\"client.py\", \"" + port + "\"]; runpy.run_path(\"" + filepath.Join(tutorial, "client.py") + "\")'"
	stdout, stderr, code := socklabTraceWithin(t, 20*time.Second, "",
		"--server", server, "--server-input", reply, "--client", client, "--client-input", answer, "--color=never")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"server| client says: 你好, server\n", "server| reply:\n", "client| client read: from a file\n", "client| server says: pong\n"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("no %q in standard error:\n%s", want, stderr)
		}
	}
	for _, line := range strings.Split(stdout, "\n") {
		if line != "" && !strings.HasPrefix(line, " ") {
			t.Errorf("standard output has a line that is not the trace's: %q", line)
		}
	}
	if _, stderr, code := socklabTraceWithin(t, 10*time.Second, "", "--server", server, "--server-input", filepath.Join(dir, "missing")); code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "--server-input") {
		t.Errorf("a missing input file: exit %d, %q; want 1 and one line", code, stderr)
	}
	if _, stderr, code := socklabTraceWithin(t, 10*time.Second, "", "--client-input", answer); code != 2 {
		t.Errorf("--client-input alone: exit %d, %q; want 2", code, stderr)
	}
}

// A server that never listens nor binds: the clients start after a
// bounded wait, said in one line, and the server is stopped once they
// are done.
func TestTraceServerNeverReady(t *testing.T) {
	_, stderr, code := socklabTraceWithin(t, 15*time.Second, "", "--server", "sleep 30", "--client", "true")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, want := range []string{
		"the server has neither listened nor bound a datagram socket after 3s: socklab starts the clients anyway",
		"server (sleep 30) was ended by SIGINT (status 130)",
		"client (true) exited with status 0",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("no %q in:\n%s", want, stderr)
		}
	}
}
