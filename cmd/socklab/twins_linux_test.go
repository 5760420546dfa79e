package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/socklab/socklab/lessons"
	pytwin "github.com/socklab/socklab/lessons/python"
)

// twinStories are the stories the Python twins (lessons/python) must tell:
// for each peer, sequences of calls (as twinCalls names them) that must
// come in this order among its calls, others between them allowed. They
// follow the Go lessons' rows in orderTests (lessons/lessons_test.go), less
// what only Go does (its getsockname after connect, fcntl where Python uses
// ioctl FIONBIO) and plus what Python does (accept's getsockname). The
// twins of lessons with an expectation (basic, ipv6) are also checked by
// --expect. The peers of a twin that is one program (traced with --all)
// are its calls in order, whatever peer they were shown as: "*".
var twinStories = map[string]map[string][][]string{
	"basic": {
		"server": {{"create:1", "bind:2", "listen:3", "accept:8", "read:10", "write:9", "read(EOF):10", "close:11", "close:11"}},
		"client": {{"create:4", "connect:7", "write:9", "read:10", "close:11"}},
	},
	"echo": {
		"server": {{"create:1", "bind:2", "listen:3", "accept:8", "read:10", "write:9", "read:10", "write:9", "read:10", "write:9", "read(EOF):10", "close:11", "close:11"}},
		"client": {{"create:4", "connect:7", "write:9", "read:10", "write:9", "read:10", "write:9", "read:10", "close:11"}},
	},
	"stream": {
		"server": {{"create:1", "bind:2", "listen:3", "accept:8", "read:10", "read(EOF):10", "close:11", "close:11"}},
		"client": {{"create:4", "connect:7", "write:9", "write:9", "write:9", "write:9", "write:9", "close:11"}},
	},
	"halfclose": {
		"server": {{"create:1", "bind:2", "listen:3", "accept:8", "read:10", "read(EOF):10", "write:9", "close:11", "close:11"}},
		"client": {{"create:4", "connect:7", "write:9", "shutdown", "read:10", "read(EOF):10", "close:11"}},
	},
	"concurrent": {
		// Each connection's thread keeps its order; between connections,
		// anything goes: the first connection's, then how many of each.
		"server": {
			{"create:1", "bind:2", "listen:3", "accept:8", "read:10", "write:9", "read(EOF):10", "close:11", "close:11"},
			{"accept:8", "accept:8", "accept:8"},
			{"read:10", "read:10", "read:10"},
			{"write:9", "write:9", "write:9"},
			{"read(EOF):10", "read(EOF):10", "read(EOF):10"},
			{"close:11", "close:11", "close:11", "close:11"},
		},
		"client": {
			{"create:4", "connect:7", "write:9", "read:10", "close:11"},
			{"create:4", "create:4", "create:4"},
			{"connect:7", "connect:7", "connect:7"},
			{"write:9", "write:9", "write:9"},
			{"read:10", "read:10", "read:10"},
			{"close:11", "close:11", "close:11"},
		},
	},
	"nonblocking": {
		"server": {{"create:1", "bind:2", "listen:3", "ioctl", "accept!EAGAIN:6", "poll", "accept:8", "ioctl",
			"read!EAGAIN:10", "poll", "read:10", "write:9", "poll", "read(EOF):10", "close:11", "close:11"}},
		"client": {{"create:4", "ioctl", "connect!EINPROGRESS:5", "poll", "getsockopt:7", "write:9", "poll", "read:10", "close:11"}},
	},
	"epoll": {
		// What each epoll_wait finds ready decides the order between
		// connections: the first connection's, then how many of each.
		"server": {
			{"create:1", "bind:2", "listen:3", "ioctl", "epoll_create", "epoll_ctl", "poll", "accept:8", "read:10", "write:9", "read(EOF):10", "epoll_ctl", "close:11", "close:11"},
			{"accept:8", "accept:8", "accept:8"},
			{"read:10", "read:10", "read:10"},
			{"write:9", "write:9", "write:9"},
			{"read(EOF):10", "read(EOF):10", "read(EOF):10"},
			{"close:11", "close:11", "close:11", "close:11"},
		},
		"client": {
			{"create:4", "connect:7", "write:9", "read:10", "close:11"},
			{"create:4", "create:4", "create:4"},
			{"connect:7", "connect:7", "connect:7"},
			{"read:10", "read:10", "read:10"},
			{"close:11", "close:11", "close:11"},
		},
	},
	"backlog": {
		"server": {{"create:1", "bind:2", "listen:3", "accept:8", "read:10", "close:11", "accept:8", "read:10", "close:11", "accept:8", "read:10", "close:11", "close:11"}},
		"client": {{"create:4", "connect:7", "write:9", "create:4", "connect:7", "write:9", "create:4", "connect:7", "write:9",
			"read(EOF):10", "close:11", "read(EOF):10", "close:11", "read(EOF):10", "close:11"}},
	},
	"refused": {
		"*": {{"create", "bind", "create", "connect!ECONNREFUSED:5", "close:11", "close:11"}},
	},
	"addrinuse": {
		"*": {{"create", "bind", "setsockopt", "listen:3",
			"create", "bind!EADDRINUSE", "close:11",
			"create", "connect:7", "accept:8", "close:11", "close:11", "read(EOF):10", "close:11",
			"create", "bind!EADDRINUSE", "close:11",
			"create", "setsockopt", "bind", "close:11"}},
	},
	"timewait": {
		// Round 1, the client closes first; round 2, the server.
		"*": {{"create", "bind", "listen:3", "create", "connect:7", "accept:8", "close:11", "read(EOF):10", "close:11",
			"create", "connect:7", "accept:8", "close:11", "read(EOF):10", "close:11", "close:11"}},
		"server": {{"accept:8", "read(EOF):10", "close:11", "accept:8", "close:11", "close:11"}},
		"client": {{"connect:7", "close:11", "connect:7", "read(EOF):10", "close:11"}},
	},
	"reset": {
		"server": {{"create:1", "bind:2", "listen:3", "accept:8", "read!ECONNRESET:10", "close:11", "close:11"}},
		"client": {{"create:4", "connect:7", "setsockopt", "close:11"}},
	},
	"timeout": {
		"server": {{"create:1", "bind:2", "listen:3", "accept:8", "read(EOF):10", "close:11", "close:11"}},
		"client": {{"create:4", "connect:7", "setsockopt", "read!EAGAIN:10", "close:11"}},
	},
	"udp": {
		"server": {{"create:1", "bind:2", "recvfrom:10", "recvfrom:10", "sendto:9", "close:11"}},
		"client": {{"create:4", "sendto:9", "sendto:9", "recvfrom:10", "close:11"}},
	},
	"unix": {
		"server": {{"create:1", "bind:2", "listen:3", "accept:8", "read:10", "write:9", "read(EOF):10", "close:11", "close:11"}},
		"client": {{"create:4", "connect:7", "write:9", "read:10", "close:11"}},
	},
	"ipv6": {
		"server": {{"create:1", "bind:2", "listen:3", "accept:8", "read:10", "write:9", "read(EOF):10", "close:11", "close:11"}},
		"client": {{"create:4", "connect:7", "write:9", "read:10", "close:11"}},
	},
}

// twinCalls names each call's end as twinStories does: its op, "(EOF)"
// for a read of end of file, "!ERRNO" when it failed, ":STEP" for its step
// of the lesson plan. Under "*", every call, in order.
func twinCalls(t *testing.T, jsonLines string) map[string][]string {
	t.Helper()
	got := map[string][]string{}
	sc := bufio.NewScanner(strings.NewReader(jsonLines))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), "{") {
			continue // the programs' own output
		}
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("not JSON: %q", sc.Text())
		}
		if e.Phase != "end" {
			continue
		}
		name := e.Op
		if e.EOF {
			name += "(EOF)"
		}
		if e.Errno != "" {
			name += "!" + e.Errno
		}
		if e.Step > 0 {
			name += fmt.Sprint(":", e.Step)
		}
		got[e.Peer] = append(got[e.Peer], name)
		got["*"] = append(got["*"], name)
	}
	return got
}

// missing returns the first call of want that does not come, in want's
// order, among got's, and the calls before it that did; "" when all do.
func missing(got, want []string) (string, int) {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	if i == len(want) {
		return "", i
	}
	return want[i], i
}

// traceTwin plays a twin under socklab trace, bounded, and returns its
// JSON Lines and standard error.
func traceTwin(t *testing.T, tw pytwin.Twin, extra ...string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	path, err := tw.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	addr := unusedPort(t)
	if tw.Path {
		addr = filepath.Join(dir, "socket")
	}
	server, client, program := tw.Commands(path, addr)
	args := []string{"trace", "--format=json"}
	if program != "" {
		args = append(append(args, "--all"), extra...)
		args = append(append(args, "--"), strings.Fields(program)...)
	} else {
		args = append(append(args, "--server", server, "--client", client), extra...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, socklabBinary(t), args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("socklab trace of %s did not end in 30 s\n%s", tw.File(), stderr.String())
	}
	if exit := (*exec.ExitError)(nil); err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	} else if err != nil {
		t.Fatalf("socklab trace of %s: exit %d\n%s\n%s", tw.File(), exit.ExitCode(), stdout.String(), stderr.String())
	}
	return stdout.String(), stderr.String()
}

// TestPythonTwins plays each lesson's Python twin under socklab trace and
// checks it tells its lesson's story: the lesson's expectation where it
// has one, and its row of twinStories; a twin that drifts fails naming the
// call it lost.
func TestPythonTwins(t *testing.T) {
	needPython3(t)
	for _, tw := range pytwin.All() {
		t.Run(tw.Lesson, func(t *testing.T) {
			story, ok := twinStories[tw.Lesson]
			if !ok {
				t.Fatalf("no story for %s in twinStories", tw.File())
			}
			var extra []string
			l, _ := lessons.Lookup(tw.Lesson)
			if l.Expect != nil {
				extra = []string{"--expect", tw.Lesson}
			}
			stdout, stderr := traceTwin(t, tw, extra...)
			if l.Expect != nil && !strings.Contains(stderr, "every step of "+tw.Lesson+" is there") {
				t.Errorf("--expect %s did not pass:\n%s", tw.Lesson, stderr)
			}
			got := twinCalls(t, stdout)
			for peer, seqs := range story {
				for _, want := range seqs {
					if call, i := missing(got[peer], want); call != "" {
						t.Errorf("%s: the %s's %s (call %d of %v) is missing; its calls:\n%v", tw.File(), peer, call, i+1, want, got[peer])
					}
				}
			}
		})
	}
}

// TestMissingNamesTheCall: a twin that drifts fails naming the first call
// of its story that did not come.
func TestMissingNamesTheCall(t *testing.T) {
	tests := []struct {
		got, want []string
		call      string
	}{
		{[]string{"create:4", "connect:7", "close:11"}, []string{"create:4", "connect:7", "write:9", "close:11"}, "write:9"},
		{[]string{"create:4", "getsockname", "connect:7"}, []string{"create:4", "connect:7"}, ""},
		{[]string{"connect:7", "create:4"}, []string{"create:4", "connect:7"}, "connect:7"},
	}
	for _, tt := range tests {
		if call, _ := missing(tt.got, tt.want); call != tt.call {
			t.Errorf("missing(%v, %v) = %q, want %q", tt.got, tt.want, call, tt.call)
		}
	}
}

// socklabRun runs socklab with args, bounded, and returns its standard
// output, standard error and exit status.
func socklabRun(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, socklabBinary(t), args...)
	cmd.Env = append(cmd.Environ(), env...)
	cmd.WaitDelay = time.Second
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("socklab %v did not end in 30 s\n%s", args, stderr.String())
	}
	code := 0
	if exit := (*exec.ExitError)(nil); errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// TestRunPython: socklab run LESSON --python plays the twin under the
// tracer, with the lesson's expectation, in the views socklab trace has.
func TestRunPython(t *testing.T) {
	needPython3(t)
	stdout, stderr, code := socklabRun(t, nil, "run", "basic", "--python", "--color=never")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"[ 1] create", "[ 6] accept", "[11] close", "Checked against the basic lesson", "every step of basic is there"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("no %q in:\n%s", want, stdout)
		}
	}
	stdout, stderr, code = socklabRun(t, nil, "run", "--python", "ipv6", "--format", "json", "--lang=zh")
	if code != 0 {
		t.Fatalf("json: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got := steps(t, stdout); len(got["server"]) == 0 || len(got["client"]) == 0 {
		t.Errorf("ipv6's steps: %v", got)
	}
	if !strings.Contains(stderr, "ipv6") {
		t.Errorf("no expectation's table on standard error:\n%s", stderr)
	}
	// A twin without an expectation: its own calls, no table.
	stdout, _, code = socklabRun(t, nil, "run", "halfclose", "--python", "--color=never", "--layout=lines")
	if code != 0 || !strings.Contains(stdout, "shutdown") || strings.Contains(stdout, "Checked against") {
		t.Errorf("halfclose --python: exit %d\n%s", code, stdout)
	}
}

func TestRunPythonErrors(t *testing.T) {
	doc, err := os.ReadFile("../../docs/errors.md")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		env  []string
		args []string
		code int
		line string
	}{
		{nil, []string{"run", "gonet", "--python"}, 2, `lesson "gonet" has no Python twin`},
		{nil, []string{"run", "basic", "--python", "--message=hi"}, 2, "does not use --message"},
		{[]string{"PATH=/nonexistent"}, []string{"run", "basic", "--python"}, 1, "needs python3 on PATH"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, stderr, code := socklabRun(t, tt.env, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.line) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("exit %d, want %d; stderr (one line, saying %q):\n%s", code, tt.code, tt.line, stderr)
			}
			if !strings.Contains(string(doc), strings.TrimSpace(stderr)) {
				t.Errorf("docs/errors.md does not quote:\n%s", stderr)
			}
		})
	}
}

// TestStepsNameTheTwinsLines: socklab steps names, for each step, the
// basic twin's line that makes it.
func TestStepsNameTheTwinsLines(t *testing.T) {
	stdout, _, code := socklabRun(t, nil, "steps", "--color=never")
	for _, want := range []string{"Python twin:       basic.py:", "conn, address = s.accept()", "c.connect((HOST, port))"} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("exit %d; no %q in:\n%s", code, want, stdout)
		}
	}
}

// TestTraceShowsSourceLines: socklab trace of the tutorial's pair names,
// for each call, the line of server.py or client.py that made it, in JSON
// and under the call in text.
func TestTraceShowsSourceLines(t *testing.T) {
	needPython3(t)
	port := unusedPort(t)
	server := "python3 " + filepath.Join(tutorial, "server.py") + " " + port
	client := "python3 " + filepath.Join(tutorial, "client.py") + " " + port
	stdout, stderr, code := socklabTrace(t, "got it\n", "--server", server, "--client", client, "--format=json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	want := map[string]string{ // peer op → the line
		"server create":  "server.py:10 s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)",
		"server accept":  "server.py:13 conn, addr = s.accept()",
		"server write":   "server.py:17 conn.sendall(reply.encode('utf-8'))",
		"client connect": "client.py:10 c.connect((HOST, PORT))",
		"client read":    "client.py:12 data = c.recv(1024).decode('utf-8')",
		"client close":   "client.py:14 c.close()",
	}
	got := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var e struct {
			Peer, Op string
			Source   *struct {
				File string
				Line int
				Text string
			}
		}
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Source == nil {
			continue
		}
		got[e.Peer+" "+e.Op] = fmt.Sprintf("%s:%d %s", filepath.Base(e.Source.File), e.Source.Line, e.Source.Text)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: source %q, want %q", k, got[k], w)
		}
	}
	p2 := unusedPort(t)
	text, _, _ := socklabTrace(t, "got it\n", "--server", strings.ReplaceAll(server, port, p2), "--client", strings.ReplaceAll(client, port, p2), "--color=never", "--layout=lines")
	if !strings.Contains(text, "\n             server.py:13  conn, addr = s.accept()\n") {
		t.Errorf("no source line under the accept in:\n%s", text)
	}
}

// TestLessonPagesShowTheTwin: a lesson page that shows its Python twin
// (a `python` generated block) shows the file as it is, in both languages;
// -update rewrites the block. basic's pages show theirs.
func TestLessonPagesShowTheTwin(t *testing.T) {
	shown := 0
	for _, dir := range []string{"../../docs/lessons", "../../docs/zh/lessons"} {
		for _, tw := range pytwin.All() {
			path := filepath.Join(dir, tw.Lesson+".md")
			page, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			begin, _ := markers("python")
			if !strings.Contains(string(page), begin) {
				continue
			}
			shown++
			want := "```python\n" + string(tw.Source()) + "```\n"
			if *update {
				if err := os.WriteFile(path, []byte(replaceBlock(string(page), "python", want)), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if got := block(string(page), "python"); got != want {
				t.Errorf("%s does not show %s as it is; run go test ./cmd/socklab -run TestLessonPagesShowTheTwin -update", path, tw.File())
			}
		}
	}
	if shown < 2 {
		t.Errorf("%d pages show their twin, want at least basic's two", shown)
	}
}

// twinExercises are the lesson pages' exercises in Python, played on the
// twin as the page writes them: the change applied to a copy of the twin,
// the command run, and the answer's claim asserted.
var twinExercises = []struct {
	name     string
	lesson   string
	from, to string   // the change, as the page writes it
	exit     int      // socklab trace's exit status
	says     []string // what the answer says the trace shows
	missing  []string // what the answer says it does not
	pages    []string
}{
	{
		name:   "basic 4: the client never reads the reply",
		lesson: "basic",
		from:   "data = c.recv(1024).decode('utf-8')  # 10 read", to: "data = 'nothing read'",
		exit:    1,
		says:    []string{"✗  10     client   read", "the client never read the reply", "[ 9] write       sendto("},
		missing: []string{"client   [10] read"},
		pages:   []string{"docs/lessons/basic.md", "docs/zh/lessons/basic.md"},
	},
}

func TestTwinExercises(t *testing.T) {
	needPython3(t)
	for _, ex := range twinExercises {
		t.Run(ex.name, func(t *testing.T) {
			for _, page := range ex.pages {
				b, err := os.ReadFile(filepath.Join("..", "..", page))
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(b), "`"+ex.from+"`") || !strings.Contains(string(b), "`"+ex.to+"`") {
					t.Fatalf("%s no longer asks to change %q to %q", page, ex.from, ex.to)
				}
			}
			tw, _ := pytwin.Lookup(ex.lesson)
			src := string(tw.Source())
			if strings.Count(src, ex.from) != 1 {
				t.Fatalf("%s has not exactly one %q", tw.File(), ex.from)
			}
			path := filepath.Join(t.TempDir(), tw.File())
			if err := os.WriteFile(path, []byte(strings.Replace(src, ex.from, ex.to, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			server, client, _ := tw.Commands(path, unusedPort(t))
			stdout, stderr, code := socklabRun(t, nil, "trace", "--server", server, "--client", client, "--expect", ex.lesson, "--color=never", "--layout=lines")
			if code != ex.exit {
				t.Errorf("exit %d, want %d\n%s\n%s", code, ex.exit, stdout, stderr)
			}
			for _, want := range ex.says {
				if !strings.Contains(stdout, want) {
					t.Errorf("the answer says %q; the trace:\n%s", want, stdout)
				}
			}
			for _, not := range ex.missing {
				if strings.Contains(stdout, not) {
					t.Errorf("the answer says there is no %q; the trace:\n%s", not, stdout)
				}
			}
		})
	}
}
