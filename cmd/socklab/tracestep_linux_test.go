package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// listenQueue returns the accept queue of the socket listening on port,
// from the kernel's table: for a LISTEN socket, rx_queue counts the
// connections whose handshake is done and that wait for accept (ss's
// Recv-Q).
func listenQueue(t *testing.T, port int) (int, bool) {
	t.Helper()
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		t.Skip("no /proc/net/tcp")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 || fields[3] != "0A" { // 0A: LISTEN
			continue
		}
		_, p, _ := strings.Cut(fields[1], ":")
		if n, _ := strconv.ParseUint(p, 16, 16); int(n) != port {
			continue
		}
		_, rx, _ := strings.Cut(fields[4], ":")
		q, _ := strconv.ParseUint(rx, 16, 32)
		return int(q), true
	}
	return 0, false
}

// The tutorial pair under --step, Enter at every prompt: the client's
// create and connect (4, 5) are stepped before the server's accept (6),
// and at the prompt for 6 the handshake is done and queued on the
// listener (Recv-Q 1) and the client's connect has returned — what the
// teachers' guide tells the class to look at with ss. With --expect
// basic the conductor follows basic's script, to the same effect.
func TestTraceStepTeachingOrder(t *testing.T) {
	needPython3(t)
	for _, extra := range [][]string{nil, {"--expect", "basic"}} {
		t.Run(strings.Join(append([]string{"step"}, extra...), " "), func(t *testing.T) { stepTeachingOrder(t, extra) })
	}
}

func stepTeachingOrder(t *testing.T, extra []string) {
	port := unusedPort(t)
	reply := filepath.Join(t.TempDir(), "reply.txt")
	if err := os.WriteFile(reply, []byte("got it\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	keys := &promptedEnter{prompts: make(chan string, 100), stop: stop}
	var stdout lockedBuffer
	var mu sync.Mutex
	var prompts []string
	queued, connected := -1, false
	n, _ := strconv.Atoi(port)
	keys.hold = func(prompt string) time.Duration {
		mu.Lock()
		defer mu.Unlock()
		prompts = append(prompts, prompt)
		if strings.Contains(prompt, "[6] server") && queued < 0 {
			// The settle before the prompt has let the connect's End out.
			for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				if q, _ := listenQueue(t, n); q == 1 {
					queued = q
					break
				}
			}
			connected = strings.Contains(stdout.String(), `"peer":"client","role":"client","op":"connect","phase":"end"`)
		}
		return 0
	}
	saved := openKeys
	openKeys = func() (io.ReadCloser, error) { return io.NopCloser(keys), nil }
	defer func() { openKeys = saved }()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"trace", "--step", "--format=json",
			"--server", python("server.py", port), "--server-input", reply,
			"--client", python("client.py", port)}, extra...), env{stdout: &stdout, stderr: keys})
	}()
	var code int
	select {
	case code = <-done:
	case <-time.After(40 * time.Second):
		t.Fatal("socklab trace --step did not end")
	}
	close(stop)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stdout.String())
	}
	mu.Lock()
	defer mu.Unlock()
	order := map[string]int{}
	for i, p := range prompts {
		for _, step := range []string{"[4] client", "[5] client", "[6] server"} {
			if _, ok := order[step]; !ok && strings.Contains(p, step) {
				order[step] = i
			}
		}
	}
	if len(order) != 3 || order["[4] client"] > order["[6] server"] || order["[5] client"] > order["[6] server"] {
		t.Errorf("want the prompts for 4 and 5 before 6: %v\n%s", order, strings.Join(prompts, "\n"))
	}
	if queued != 1 {
		t.Errorf("held before accept, the listener's accept queue is not 1 (Recv-Q)")
	}
	if !connected {
		t.Errorf("held before accept, the client's connect had not returned:\n%s", stdout.String())
	}
}

// Under --step the terminal's keys are socklab's: a server that reads the
// standard input it would have shared with them gets one line saying so
// and end of file, not a race for the person's keys.
func TestTraceStepServerReadingTheTerminal(t *testing.T) {
	needPython3(t)
	port := unusedPort(t)
	stop := make(chan struct{})
	defer close(stop)
	keys := &promptedEnter{prompts: make(chan string, 100), stop: stop, hold: func(string) time.Duration { return 0 }}
	saved := openKeys
	openKeys = func() (io.ReadCloser, error) { return io.NopCloser(keys), nil }
	defer func() { openKeys = saved }()
	var stdout, stderr lockedBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"trace", "--step", "--format=json",
			"--server", python("server.py", port), "--client", python("client.py", port)},
			env{stdout: &stdout, stderr: io.MultiWriter(keys, &stderr), stdinTerminal: true})
	}()
	select {
	case <-done:
	case <-time.After(40 * time.Second):
		t.Fatal("socklab trace --step did not end")
	}
	want := "python3 " + filepath.Join(tutorial, "server.py") + " " + port + " reads its standard input, which under --step is not the terminal"
	if got := stderr.String(); strings.Count(got, want) != 1 {
		t.Errorf("want one line %q in:\n%s", want, got)
	}
}
