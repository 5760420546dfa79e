package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"go.uber.org/goleak"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/ptrace"
)

func TestMain(m *testing.M) {
	// socklab trace, run in this test binary, starts its programs as it.
	ptrace.RunTraceeIfAsked()
	// testscript runs this test binary as the socklab command in scripts.
	testscript.Main(leakChecked{m}, map[string]func(){
		"socklab": func() { os.Exit(mainExit()) },
	})
}

// leakChecked fails the run if a test left a goroutine behind.
type leakChecked struct{ m *testing.M }

func (l leakChecked) Run() int {
	code := l.m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			return 1
		}
	}
	return code
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"jsonlines": jsonLines,
		},
	})
}

// jsonLines checks that a file is JSON Lines in the trace's schema
// (trace.SchemaVersion): every line an object with the required fields,
// steps 1 to 11 all present.
func jsonLines(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: jsonlines FILE")
	}
	sc := bufio.NewScanner(strings.NewReader(ts.ReadFile(args[0])))
	steps := make(map[float64]bool)
	lines := 0
	for sc.Scan() {
		lines++
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			ts.Fatalf("line %d: %v", lines, err)
		}
		fields := []string{"v", "seq", "time_ns", "peer", "op", "phase", "syscall"}
		if m["op"] == string(trace.OpPacket) { // a packet is no call: no phase, no syscall
			fields = []string{"v", "seq", "time_ns", "op", "packet"}
		}
		for _, f := range fields {
			if _, ok := m[f]; !ok {
				ts.Fatalf("line %d has no %q field", lines, f)
			}
		}
		if m["v"] != float64(trace.SchemaVersion) {
			ts.Fatalf("line %d: v = %v, want %d", lines, m["v"], trace.SchemaVersion)
		}
		if s, ok := m["step"].(float64); ok {
			steps[s] = true
		}
	}
	for s := 1.0; s <= 11; s++ {
		if !steps[s] {
			ts.Fatalf("step %v missing", s)
		}
	}
}

// runTests are command lines and what run answers: the exit code, a part of
// standard output, all of standard error.
var runTests = []struct {
	name       string
	args       []string
	wantCode   int
	wantStdout string // a substring, "" for none
	wantStderr string // the whole of stderr
}{
	{"no arguments runs basic", nil, 0, "[11] close", ""},
	{"run basic", []string{"run", "basic"}, 0, "[ 8] accept", ""},
	{"flags before the lesson", []string{"run", "--color=never", "basic"}, 0, "[ 1] create", ""},
	{"flags without command", []string{"--message=hi"}, 0, `write(`, ""},
	{"hostile bytes are escaped", []string{"--message=\x1b]0;pwned\a\x1b[2J\xff", "--reply=\u202eok"}, 0,
		`"\x1b]0;pwned\a\x1b[2J\xff", 15)`, ""},
	{"list", []string{"list"}, 0, "basic        the 11 steps", ""},
	{"a --pcap file that cannot be written", []string{"run", "--pcap=/nonexistent/x.pcapng"}, 1, "",
		"socklab: cannot write the capture to \"/nonexistent/x.pcapng\": no such file or directory (ENOENT); name a file in a directory you can write: --pcap=run.pcapng\n"},
	{"too many clients for backlog", []string{"run", "backlog", "--clients=200"}, 2, "",
		"socklab: lesson backlog runs at most 128 clients (its listen backlog); ask for fewer with --clients\n"},
	{"option the lesson does not use", []string{"run", "echo", "--message=XYZ"}, 2, "",
		"socklab: lesson echo does not use --message; its story has no use for it: leave it out (socklab list says what each lesson does)\n"},
	{"clients out of range", []string{"run", "concurrent", "--clients=0"}, 2, "",
		"socklab: --clients 0 is out of range; use a number from 1 to 5000\n"},
	{"help", []string{"--help"}, 0, "Usage:", ""},
	{"flags before the command go with it", []string{"--layout=lines", "run", "basic"}, 0, "[ 1] create", ""},
	{"a flag before a command that lacks it", []string{"--explain", "list"}, 2, "",
		"socklab: unknown flag \"--explain\"; see 'socklab list --help'\n"},
	{"global flags on list", []string{"list", "--color=never", "--lang=zh"}, 0, "basic        11 个步骤", ""},
	{"global flags before steps", []string{"--color=never", "--lang=zh", "steps"}, 0, "TCP", ""},
	{"clients not a number", []string{"run", "concurrent", "--clients=abc"}, 2, "",
		"socklab: --clients \"abc\" is not valid: write a whole number, like 5; see 'socklab run --help'\n"},
	{"empty language", []string{"--lang="}, 2, "", "socklab: --lang is empty; use --lang=en or --lang=zh\n"},
	{"empty layout", []string{"--layout="}, 2, "", "socklab: --layout is empty; use --layout=columns or --layout=lines\n"},
	{"empty colour", []string{"--color="}, 2, "", "socklab: --color is empty; use --color=auto, always or never\n"},
	{"empty format", []string{"--format="}, 2, "", "socklab: --format is empty; use --format=text, json or mermaid\n"},
	{"absurd delay", []string{"--delay=1000000h"}, 2, "",
		"socklab: --delay 1000000h0m0s is longer than 10m0s; a step's pause is a few hundred milliseconds to a few seconds, like --delay=800ms\n"},
	{"absurd timeout", []string{"client", "--timeout=1000000h"}, 2, "",
		"socklab: --timeout 1000000h0m0s is longer than 24h0m0s; use a duration up to a day, like --timeout=10s\n"},
	{"help in Chinese", []string{"help", "--lang=zh"}, 0, "用法", ""},
	{"help flag in Chinese", []string{"--help", "--lang=zh"}, 0, "用法", ""},
	{"a command's help in Chinese", []string{"help", "server", "--lang=zh"}, 0, "用法：socklab server", ""},
	{"run's help names the lesson", []string{"help", "run"}, 0, "Usage: socklab run [LESSON] [flags]", ""},
	{"help command", []string{"help"}, 0, "--format=text|json", ""},
	{"run help", []string{"run", "-h"}, 0, "Lessons:", ""},
	{"unknown command", []string{"frob"}, 2, "",
		"socklab: unknown command \"frob\"; try 'socklab run', 'socklab server', 'socklab client', 'socklab list' or 'socklab --help'\n"},
	{"unknown lesson", []string{"run", "nope"}, 2, "", "socklab: unknown lesson \"nope\"; see 'socklab list'\n"},
	{"unknown flag", []string{"run", "--bogus"}, 2, "", "socklab: unknown flag \"--bogus\"; see 'socklab run --help'\n"},
	{"flag without value", []string{"run", "--message"}, 2, "",
		"socklab: flag \"--message\" needs a value, as in --message=VALUE; see 'socklab run --help'\n"},
	{"two lessons", []string{"run", "basic", "basic"}, 2, "", "socklab: too many arguments: \"basic\"; run one lesson at a time\n"},
	{"bad color", []string{"--color=purple"}, 2, "", "socklab: unknown --color value \"purple\"; use --color=auto, always or never\n"},
	{"bad color with json", []string{"--format=json", "--color=purple"}, 2, "", "socklab: unknown --color value \"purple\"; use --color=auto, always or never\n"},
	{"bad format", []string{"--format=xml"}, 2, "", "socklab: unknown format \"xml\"; use --format=text, json or mermaid\n"},
	{"list with argument", []string{"list", "x"}, 2, "", "socklab: list takes no arguments, got \"x\"; see 'socklab list --help'\n"},
	{"empty message", []string{"--message="}, 2, "",
		"socklab: --message is empty: an empty message sends no bytes, so the server would wait for ever; give the client something to say\n"},
	{"empty reply", []string{"--reply="}, 2, "",
		"socklab: --reply is empty: an empty reply sends no bytes, so the client would wait for ever; give the server something to reply\n"},
	{"address without port", []string{"client", "--addr", "127.0.0.1"}, 2, "",
		"socklab: --addr \"127.0.0.1\" has no port; write HOST:PORT, like 127.0.0.1:1234\n"},
	{"malformed address", []string{"server", "--addr", "::1:80"}, 2, "",
		"socklab: --addr \"::1:80\" has too many colons; put an IPv6 address in brackets, like [::1]:1234\n"},
	{"empty address", []string{"client", "--addr="}, 2, "", "socklab: --addr is empty; write HOST:PORT, like 127.0.0.1:1234\n"},
	{"port out of range", []string{"server", "--addr", "127.0.0.1:70000"}, 2, "",
		"socklab: port 70000 in --addr is out of range; use a port from 1 to 65535, or 0 to let the kernel choose\n"},
	{"negative port", []string{"client", "--addr", "127.0.0.1:-1"}, 2, "",
		"socklab: port -1 in --addr is out of range; use a port from 1 to 65535\n"},
	{"port zero for a client", []string{"client", "--addr", "127.0.0.1:0"}, 2, "",
		"socklab: port 0 in --addr is out of range; use a port from 1 to 65535\n"},
	{"port not a number", []string{"client", "--addr", "localhost:http"}, 2, "",
		"socklab: port \"http\" in --addr is not a number; use a port from 1 to 65535\n"},
	{"host that does not resolve", []string{"client", "--addr", "nosuch.invalid:1234", "--message", "hi"}, 1, "",
		"socklab: cannot resolve host \"nosuch.invalid\" (no such host); check the spelling, or give an IP address like 127.0.0.1\n"},
	{"bad timeout", []string{"client", "--timeout", "soon"}, 2, "",
		"socklab: --timeout \"soon\" is not valid: write a duration, like 10s or 500ms; see 'socklab client --help'\n"},
	{"zero timeout", []string{"client", "--timeout", "0s"}, 2, "",
		"socklab: --timeout 0s is not positive; use a positive duration, like --timeout=10s\n"},
	{"zero read timeout", []string{"client", "--read-timeout", "0"}, 2, "",
		"socklab: --read-timeout 0s is not positive; use a positive duration, like --read-timeout=10s\n"},
	{"negative server read timeout", []string{"server", "--read-timeout", "-5s"}, 2, "",
		"socklab: --read-timeout -5s is not positive; use a positive duration, like --read-timeout=10s\n"},
	{"empty server reply", []string{"server", "--reply="}, 2, "",
		"socklab: --reply is empty: an empty reply sends no bytes; give the server something to reply\n"},
	{"empty client message", []string{"client", "--message="}, 2, "",
		"socklab: --message is empty: an empty message sends no bytes; give the client something to say\n"},
	{"server takes no arguments", []string{"server", "extra"}, 2, "",
		"socklab: server takes no arguments, got \"extra\"; see 'socklab server --help'\n"},
	{"empty port", []string{"client", "--addr", "127.0.0.1:"}, 2, "",
		"socklab: --addr \"127.0.0.1:\" has no port; write HOST:PORT, like 127.0.0.1:1234\n"},
	{"bad boolean", []string{"server", "--step=maybe"}, 2, "",
		"socklab: --step \"maybe\" is not valid: write --step, or --step=false; see 'socklab server --help'\n"},
	{"bad delay", []string{"--delay", "x"}, 2, "",
		"socklab: --delay \"x\" is not valid: write a duration, like 10s or 500ms; see 'socklab run --help'\n"},
	{"bad layout", []string{"--layout=grid"}, 2, "",
		"socklab: unknown layout \"grid\"; use --layout=columns or --layout=lines\n"},
	{"bad language", []string{"--lang=fr"}, 2, "",
		"socklab: unknown language \"fr\"; use --lang=en or --lang=zh\n"},
	{"step and delay", []string{"--step", "--delay=1s"}, 2, "",
		"socklab: --step and --delay both set; choose one: --step waits for Enter, --delay for a time\n"},
	{"server help", []string{"server", "--help"}, 0, "--forever", ""},
	{"client help", []string{"help", "client"}, 0, "--timeout=DURATION", ""},
	{"message too long", []string{"--message=" + strings.Repeat("x", 1025)}, 2, "",
		"socklab: the message is 1025 bytes, more than the 1024-byte read buffer; shorten it\n"},
}

func TestRun(t *testing.T) {
	for _, tt := range runTests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, env{stdout: &stdout, stderr: &stderr})
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout does not contain %q:\n%s", tt.wantStdout, stdout.String())
			}
			if strings.ContainsAny(stdout.String(), "\x1b\a") {
				t.Errorf("stdout holds a raw control byte:\n%q", stdout.String())
			}
			if tt.wantCode == 2 && stdout.Len() != 0 {
				t.Errorf("a usage error printed to stdout:\n%s", stdout.String())
			}
			if got := stderr.String(); got != tt.wantStderr {
				t.Errorf("stderr:\ngot  %q\nwant %q", got, tt.wantStderr)
			}
		})
	}
}

// msgInterruptedNone is the line of a run interrupted before any socket.
const msgInterruptedNone = "socklab: interrupted by %s before any socket was made\n"

func TestRunInterrupted(t *testing.T) {
	// A run whose context a signal cancelled exits 128+signal, says so in
	// one line, and leaves no socket open.
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(signalError{os.Interrupt})
	var stdout, stderr bytes.Buffer
	code := run(ctx, nil, env{stdout: &stdout, stderr: &stderr})
	if code != 130 {
		t.Errorf("exit code %d, want 130", code)
	}
	want := fmt.Sprintf(msgInterruptedNone, "Ctrl-C (SIGINT)") // cancelled before it began
	if stderr.String() != want {
		t.Errorf("stderr:\ngot  %q\nwant %q", stderr.String(), want)
	}
}

func TestStepMode(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantStderr []string // substrings, in order
		wantSteps  int      // prompts shown
	}{
		{"Enter all the way", []string{"--step", "--format=json"}, strings.Repeat("\n", 20), []string{"▶ next: [1] server socket()", "▶ next: [11] server close()"}, 14},
		{"q after two steps", []string{"--step", "--format=json"}, "\n\nq\n", []string{"▶ next: [3] server listen()", "socklab: stopped; every socket was closed"}, 3},
		{"stdin ends", []string{"--step", "--format=json"}, "\n", []string{"▶ next: [2] server bind()", "socklab: stopped;"}, 2},
		{"delay", []string{"--delay=1ms", "--format=json"}, "", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, env{stdin: strings.NewReader(tt.stdin), stdout: &stdout, stderr: &stderr})
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			rest := stderr.String()
			for _, want := range tt.wantStderr {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("stderr lacks %q (in order):\n%s", want, stderr.String())
				}
				rest = rest[i:]
			}
			if got := strings.Count(stderr.String(), "▶ next:"); got != tt.wantSteps {
				t.Errorf("got %d prompts, want %d", got, tt.wantSteps)
			}
			// Whatever the stop, every socket made was closed.
			open := map[float64]bool{}
			for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
				var e map[string]any
				if err := json.Unmarshal([]byte(line), &e); err != nil {
					t.Fatal(err)
				}
				if e["phase"] == "end" && (e["op"] == "create" || e["op"] == "accept") && e["ret"].(float64) >= 0 {
					open[e["ret"].(float64)] = true
				}
				if e["phase"] == "end" && e["op"] == "close" {
					delete(open, e["fd"].(float64))
				}
			}
			if len(open) != 0 {
				t.Errorf("descriptors never closed: %v", open)
			}
		})
	}
}

func TestStepAndDelayConflict(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--step", "--delay=1s"}, env{stdout: &stdout, stderr: &stderr}); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if want := "socklab: --step and --delay both set; choose one: --step waits for Enter, --delay for a time\n"; stderr.String() != want {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
}

// TestEveryLessonRuns: socklab run NAME exits 0 for every lesson in the
// list, in text and in JSON: its story happened, even when the story is
// an error.
func TestEveryLessonRuns(t *testing.T) {
	var list bytes.Buffer
	if code := run(context.Background(), []string{"list"}, env{stdout: &list, stderr: io.Discard}); code != 0 {
		t.Fatal("socklab list failed")
	}
	for _, line := range strings.Split(strings.TrimSpace(list.String()), "\n") {
		name := strings.Fields(line)[0]
		for _, format := range []string{"text", "json"} {
			t.Run(name+"/"+format, func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				code := run(context.Background(), []string{"run", name, "--format=" + format}, env{stdout: &stdout, stderr: &stderr})
				if strings.Contains(stderr.String(), "TIME_WAIT table is full") {
					t.Skip(stderr.String()) // the kernel's, not socklab's (lessons.ErrNoTimeWait)
				}
				if code != 0 {
					t.Fatalf("exit %d: %s", code, stderr.String())
				}
				if stdout.Len() == 0 || stderr.Len() != 0 {
					t.Errorf("stdout %d bytes, stderr %q", stdout.Len(), stderr.String())
				}
			})
		}
	}
}
