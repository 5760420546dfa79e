package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/socklab/socklab/internal/shellwords"
)

// The tutorial-style Python programs socklab trace is shown with.
var tutorial = filepath.Join("..", "..", "trace", "ptrace", "testdata")

func needPython3(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python3 is missing in CI")
		}
		t.Skip("needs python3")
	}
}

func unusedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// socklabTrace runs socklab trace with args and stdin, and returns its
// standard output, standard error and exit status.
func socklabTrace(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(socklabBinary(t), append([]string{"trace"}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if exit := (*exec.ExitError)(nil); errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// steps returns, per peer, the steps its events show, in order, once each.
func steps(t *testing.T, jsonLines string) map[string][]int {
	t.Helper()
	got := map[string][]int{}
	sc := bufio.NewScanner(strings.NewReader(jsonLines))
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), "{") {
			continue // the programs' own output shares standard output
		}
		var e struct {
			Peer string
			Step int
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("not JSON: %q", sc.Text())
		}
		if e.Step > 0 && !slices.Contains(got[e.Peer], e.Step) {
			got[e.Peer] = append(got[e.Peer], e.Step)
		}
	}
	return got
}

func TestTraceTutorialPair(t *testing.T) {
	needPython3(t)
	port := unusedPort(t)
	server := "python3 " + filepath.Join(tutorial, "server.py") + " " + port
	client := "python3 " + filepath.Join(tutorial, "client.py") + " " + port
	stdout, stderr, code := socklabTrace(t, "got it\n", "--server", server, "--client", client, "--expect", "basic", "--format=json")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	got := steps(t, stdout)
	want := map[string][]int{"server": {1, 2, 3, 6, 8, 10, 9, 11}, "client": {4, 5, 7, 9, 10, 11}}
	for peer, w := range want {
		if !slices.Equal(got[peer], w) {
			t.Errorf("%s's steps: got %v, want %v", peer, got[peer], w)
		}
	}
	if !strings.Contains(stderr, "every step of basic is there") {
		t.Errorf("--expect basic did not pass:\n%s", stderr)
	}
}

func TestTraceExpectFailsOnAMissingStep(t *testing.T) {
	needPython3(t)
	port := unusedPort(t)
	stdout, _, code := socklabTrace(t, "got it\n",
		"--server", "python3 "+filepath.Join(tutorial, "server.py")+" "+port,
		"--client", "python3 "+filepath.Join(tutorial, "noread_client.py")+" "+port,
		"--expect", "basic", "--color=never")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{"✗  10     client   read", "the client never read the reply", "do not follow the basic lesson"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("no %q in:\n%s", want, stdout)
		}
	}
}

func TestTraceExitStatus(t *testing.T) {
	notExec := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		code int
		line string
	}{
		{[]string{"--", "sh", "-c", "exit 7"}, 7, ""},
		{[]string{"--", "true"}, 0, "made no socket calls"},
		{[]string{"--", "sh", "-c", "kill -TERM $$"}, 143, ""},
		{[]string{"--", "no-such-command-here"}, 127, "command not found"},
		{[]string{"--", notExec}, 126, "permission denied"},
		{nil, 2, "no program to trace"},
		{[]string{"--client", "true"}, 2, "--client needs a --server"},
		{[]string{"--server", "true", "--", "true"}, 2, "not both"},
		{[]string{"--server", "python3 'x"}, 2, "unclosed '"},
		{[]string{"--expect", "udp", "--", "true"}, 2, "no story"},
		{[]string{"--expect", "nope", "--", "true"}, 2, "nope"},
	}
	doc, err := os.ReadFile("../../docs/errors.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, stderr, code := socklabTrace(t, "", tt.args...)
			// docs/errors.md quotes each line, word for word (but the
			// temporary file's path).
			if line := strings.TrimSpace(stderr); tt.line != "" && !strings.Contains(line, t.TempDir()) && !strings.Contains(line, notExec) && !strings.Contains(string(doc), line) {
				t.Errorf("docs/errors.md does not quote:\n%s", line)
			}
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, tt.line) {
				t.Errorf("stderr does not say %q:\n%s", tt.line, stderr)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("more than one line:\n%s", stderr)
			}
		})
	}
}

// traceTranscript finds `<!-- trace transcript: ARGS -->` … `<!-- end
// transcript -->` blocks in the socklab trace pages: the command (run from
// the repository's top, PORT standing for a free port, "got it" on the
// server's standard input) and its output.
var traceTranscript = regexp.MustCompile("(?s)<!-- trace transcript: socklab trace ([^>]*?) -->\n```[a-z]*\n(.*?)```\n<!-- end transcript -->")

// TestTracePages keeps the transcripts of docs/trace.md and its Chinese
// page real: a fresh run must show each peer making the same calls (the
// kernel's states and the interleaving may vary). -update reruns them.
func TestTracePages(t *testing.T) {
	needPython3(t)
	for _, path := range []string{"../../docs/trace.md", "../../docs/zh/trace.md"} {
		page, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		blocks := traceTranscript.FindAllSubmatchIndex(page, -1)
		if len(blocks) == 0 {
			t.Fatalf("%s has no transcript blocks", path)
		}
		out := string(page)
		for i := len(blocks) - 1; i >= 0; i-- {
			b := blocks[i]
			argLine := string(page[b[2]:b[3]])
			old := string(page[b[4]:b[5]])
			fresh := func() string {
				args, err := shellwords.Split(strings.ReplaceAll(argLine, "PORT", unusedPort(t)))
				if err != nil {
					t.Fatal(err)
				}
				cmd := exec.Command(socklabBinary(t), append([]string{"trace"}, args...)...)
				cmd.Dir = filepath.Join("..", "..")
				cmd.Stdin = strings.NewReader("got it\n")
				cmd.Env = append(os.Environ(), "COLUMNS=", "NO_COLOR=1")
				stdout, err := cmd.Output()
				if err != nil && !strings.Contains(argLine, "noread") {
					t.Fatalf("socklab trace %s: %v", argLine, err)
				}
				// Ports and pids change from run to run; the page shows them
				// as they were.
				return string(stdout)
			}
			if *update {
				out = out[:b[4]] + fresh() + out[b[5]:]
				continue
			}
			var diff string
			for range 3 {
				if diff = samePerPeer(old, fresh(), func(string) func(string) (string, string) { return tracedLine }, false); diff == "" {
					break
				}
			}
			if diff != "" {
				t.Errorf("%s: socklab trace %s no longer prints this; run go test ./cmd/socklab -run TestTracePages -update\n%s", path, argLine, diff)
			}
		}
		if *update {
			if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// tracedLine is stateless for socklab's own lines; the traced programs'
// output (client says: …), which starts at the line's start and comes
// when the programs print it, is left out, and so are the table's header
// and verdict (its rows say the same).
func tracedLine(line string) (string, string) {
	if line == "" || line[0] != ' ' {
		return "", ""
	}
	return stateless(line)
}

// Killing socklab kills the programs it traces (PTRACE_O_EXITKILL, and
// the parent-death signal before the trace begins): nothing is left
// running, nothing listening.
func TestTraceKilledLeavesNothingRunning(t *testing.T) {
	needPython3(t)
	port := unusedPort(t)
	cmd := exec.Command(socklabBinary(t), "trace", "--format=json", "--", "python3", filepath.Join(tutorial, "server.py"), port)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := 0
	sc := bufio.NewScanner(out)
	for pid == 0 && sc.Scan() {
		var e struct {
			Op, Phase string
			PID       int
		}
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.Op == "accept" && e.Phase == "begin" {
			pid = e.PID
		}
	}
	if pid == 0 {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("the server never reached accept")
	}
	cmd.Process.Kill() // SIGKILL: socklab cannot clean up; the kernel must
	cmd.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := os.Stat("/proc/" + strconv.Itoa(pid))
		if os.IsNotExist(err) {
			break
		}
		if status, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status"); strings.Contains(string(status), "State:\tZ") {
			break // a zombie: dead, waiting for its reaper
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the traced server (pid %d) still runs 5 s after socklab was killed", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if c, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
		c.Close()
		t.Error("something still listens on the traced server's port")
	}
}
