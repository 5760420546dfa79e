//go:build linux || darwin

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// These tests run the built command as a real process, as a user would in
// a terminal, against real peers written with the plain net package.

// The messages of failures, exactly as a user sees them (PORT stands for a
// port number). docs/errors.md must quote each one: TestErrorsAreDocumented.
const (
	msgClosedEarly        = "socklab: the peer closed the connection before sending anything; the client connected and closed without a word; send a line, like printf 'hi\\n' | nc 127.0.0.1 1234\n"
	msgReset              = "socklab: read: connection reset by peer (ECONNRESET); the peer aborted the connection (it closed with unread data, or with SO_LINGER 0)\n"
	msgForeverBadClient   = "socklab: that client's exchange failed: the peer closed the connection before sending anything; the client connected and closed without a word; send a line, like printf 'hi\\n' | nc 127.0.0.1 1234; waiting for the next client\n"
	msgRefused            = "socklab: connect 127.0.0.1:PORT: connection refused (ECONNREFUSED); nobody listens there: start the server first (socklab server), or check --addr\n"
	msgStdinEOF           = "socklab: standard input closed (EOF) before a message was given, so the connection was closed; give the text with a flag, or pipe a line in\n"
	msgConnectTimeout     = "socklab: connect 127.0.0.1:PORT: no answer within 300ms: connect timed out; the server did not answer the handshake (its backlog may be full, or a firewall drops the SYN); try again, or raise --timeout\n"
	msgAddrInUse          = "socklab: bind 127.0.0.1:PORT: address already in use (EADDRINUSE); another program listens on this port, or a connection that just closed on it is in TIME_WAIT (about a minute); choose another port (--addr 127.0.0.1:0 lets the kernel choose) or wait\n"
	msgPrivileged         = "socklab: bind 127.0.0.1:80: permission denied (EACCES); ports below 1024 need root (or CAP_NET_BIND_SERVICE); use a port from 1024 up, like 1234\n"
	msgReadTimeout        = "socklab: read: nothing arrived within 300ms; the peer is silent; check that it sends something, or raise --read-timeout\n"
	msgClosedWithoutReply = "socklab: the peer closed the connection without replying; the server read the message and closed; is it a server that replies?\n"
	msgStdinEmpty         = "socklab: the message read from standard input is empty: an empty write sends no bytes; give the text with a flag, or pipe a line in\n"
	msgLineTooLong        = "socklab: the message read from standard input is longer than 64 KiB; send a line of text, ending in a newline\n"
	msgInterrupted        = "socklab: interrupted by %s; every socket was closed (see the close steps above)\n"
	// The same under --format=json, which these process tests use.
	msgInterruptedData  = "socklab: interrupted by %s; every socket was closed (the trace has their close events)\n"
	msgReplyUndelivered = "socklab: the reply was not delivered: the client had closed its connection, and its kernel answered with RST; the client gave up or was stopped before the reply came; start it again, and answer while it waits\n"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// socklabBinary builds the command once per test run.
func socklabBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "socklab-test")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "socklab")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("go build: %v", buildErr)
	}
	return binPath
}

// event is the part of a JSON Lines event the tests look at.
type event struct {
	Seq       int
	Peer      string
	Op        string
	Phase     string
	Step      int
	FD        *int
	Ret       *int
	N         *int
	Data      string
	Errno     string
	EOF       bool
	Remote    string
	Local     string
	Interrupt string
	TimeNS    int64 `json:"time_ns"`
}

// proc is a running socklab with its JSON trace streamed as it comes.
type proc struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	events chan event
	mu     sync.Mutex
	all    []event
	done   chan struct{}
}

func start(t *testing.T, stdin io.Reader, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(socklabBinary(t), append(args, "--format=json")...), events: make(chan event, 1000), done: make(chan struct{})}
	p.cmd.Stdin = stdin
	p.cmd.Stderr = &p.stderr
	out, err := p.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	go func() {
		defer close(p.done)
		defer close(p.events)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var e event
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Errorf("not JSON: %q", sc.Bytes())
				continue
			}
			p.mu.Lock()
			p.all = append(p.all, e)
			p.mu.Unlock()
			p.events <- e
		}
	}()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	return p
}

// waitFor waits until the process traces an event of op and phase.
func (p *proc) waitFor(t *testing.T, op, phase string) event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e, ok := <-p.events:
			if !ok {
				t.Fatalf("the process ended before %s %s; stderr: %s", op, phase, p.stderr.String())
			}
			if e.Op == op && e.Phase == phase {
				return e
			}
		case <-timeout:
			t.Fatalf("no %s %s within 10s", op, phase)
		}
	}
}

// wait waits for the process to exit and returns its exit code, its events
// and its standard error.
func (p *proc) wait(t *testing.T) (int, []event, string) {
	t.Helper()
	exited := make(chan error, 1)
	go func() {
		<-p.done // all output read
		exited <- p.cmd.Wait()
	}()
	go func() {
		for range p.events { // keep draining
		}
	}()
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		t.Fatalf("socklab %v did not exit within 20s", p.cmd.Args[1:])
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd.ProcessState.ExitCode(), p.all, p.stderr.String()
}

// checkAllClosed checks that every descriptor the process got was closed,
// and traced as closed.
func checkAllClosed(t *testing.T, events []event) {
	t.Helper()
	open := map[int]bool{}
	for _, e := range events {
		if e.Phase != "end" || e.Ret == nil {
			continue
		}
		switch {
		case (e.Op == "create" || e.Op == "accept") && *e.Ret >= 0:
			open[*e.Ret] = true
		case e.Op == "close":
			delete(open, *e.FD)
		}
	}
	for fd := range open {
		t.Errorf("fd %d was never closed", fd)
	}
}

func find(events []event, peer, op, phase string) (event, bool) {
	for _, e := range events {
		if e.Peer == peer && e.Op == op && e.Phase == phase {
			return e, true
		}
	}
	return event{}, false
}

// freePort returns a loopback port nobody listens on (just now).
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

func TestServerAndClientAsTwoProcesses(t *testing.T) {
	addr := "127.0.0.1:" + freePort(t)
	server := start(t, nil, "server", "--addr", addr, "--reply", "收到, client")
	server.waitFor(t, "accept", "begin")
	client := start(t, nil, "client", "--addr", addr, "--message", "你好, server")

	code, cevents, stderr := client.wait(t)
	require.Equal(t, 0, code, stderr)
	code, sevents, stderr := server.wait(t)
	require.Equal(t, 0, code, stderr)

	read, _ := find(sevents, "server", "read", "end")
	require.Equal(t, "你好, server", read.Data)
	reply, _ := find(cevents, "client", "read", "end")
	require.Equal(t, "收到, client", reply.Data)
	// The ephemeral port the client's kernel chose is the one the server saw.
	local, _ := find(cevents, "client", "getsockname", "end")
	accepted, _ := find(sevents, "server", "accept", "end")
	require.Equal(t, local.Local, accepted.Remote)
	// Both traces number their steps as the lesson plan does.
	for _, want := range []struct {
		events []event
		steps  []int
	}{{sevents, []int{1, 2, 3, 6, 8, 9, 10, 11}}, {cevents, []int{4, 5, 7, 9, 10, 11}}} {
		got := map[int]bool{}
		for _, e := range want.events {
			got[e.Step] = true
		}
		for _, s := range want.steps {
			require.True(t, got[s], "step %d missing", s)
		}
	}
	checkAllClosed(t, sevents)
	checkAllClosed(t, cevents)
}

// foreignServer is a TCP server written with the net package: it accepts
// one client and runs handle on the connection.
func foreignServer(t *testing.T, handle func(c *net.TCPConn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		handle(c.(*net.TCPConn))
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}

func TestClientWithForeignServer(t *testing.T) {
	addr := foreignServer(t, func(c *net.TCPConn) {
		buf := make([]byte, 100)
		n, _ := c.Read(buf)
		c.Write(bytes.ToUpper(buf[:n]))
		io.Copy(io.Discard, c) // until the client closes
	})
	code, events, stderr := start(t, strings.NewReader("hello from a pipe\n"), "client", "--addr", addr).wait(t)
	require.Equal(t, 0, code, stderr)
	wrote, _ := find(events, "client", "write", "end")
	require.Equal(t, "hello from a pipe", wrote.Data, "the message is one line of piped stdin")
	read, _ := find(events, "client", "read", "end")
	require.Equal(t, "HELLO FROM A PIPE", read.Data)
	checkAllClosed(t, events)
}

// dial connects to a socklab server as a plain net client.
func dial(t *testing.T, addr string) *net.TCPConn {
	t.Helper()
	var c net.Conn
	var err error
	for range 100 { // the server may not listen yet
		if c, err = net.Dial("tcp", addr); err == nil {
			return c.(*net.TCPConn)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("dial %s: %v", addr, err)
	return nil
}

func TestServerWithForeignClients(t *testing.T) {
	tests := []struct {
		name       string
		client     func(c *net.TCPConn)
		wantCode   int
		wantStderr string // a substring
		check      func(t *testing.T, events []event)
	}{
		{
			name: "python-like client: sendall, recv, close",
			client: func(c *net.TCPConn) {
				c.Write([]byte("hi\n"))
				io.ReadAll(io.LimitReader(c, 2))
				c.Close()
			},
			check: func(t *testing.T, events []event) {
				read, _ := find(events, "server", "read", "end")
				require.Equal(t, `hi\n`, read.Data, "the newline is shown escaped")
			},
		},
		{
			name:       "closes before sending",
			client:     func(c *net.TCPConn) { c.Close() },
			wantCode:   1,
			wantStderr: msgClosedEarly,
		},
		{
			name: "resets",
			client: func(c *net.TCPConn) {
				c.Write([]byte("x"))
				time.Sleep(100 * time.Millisecond) // the server replies meanwhile
				c.SetLinger(0)                     // close sends RST, not FIN
				c.Close()
			},
			wantCode:   1,
			wantStderr: msgReset,
		},
		{
			name: "message longer than the buffer",
			client: func(c *net.TCPConn) {
				c.Write(bytes.Repeat([]byte("a"), 3000))
				io.ReadAll(io.LimitReader(c, 2))
				c.Close()
			},
			check: func(t *testing.T, events []event) {
				total := 0
				for _, e := range events {
					if e.Op == "read" && e.Phase == "end" {
						total += *e.N
					}
				}
				require.Equal(t, 3000, total, "every byte is read and traced, none dropped")
				first, _ := find(events, "server", "read", "end")
				require.Equal(t, 1024, *first.N, "the first read fills the buffer")
			},
		},
		{
			name: "escape sequences and invalid UTF-8",
			client: func(c *net.TCPConn) {
				c.Write([]byte("\x1b]0;pwned\a\x1b[2J\xff"))
				io.ReadAll(io.LimitReader(c, 2))
				c.Close()
			},
			check: func(t *testing.T, events []event) {
				read, _ := find(events, "server", "read", "end")
				require.Equal(t, `\x1b]0;pwned\a\x1b[2J\xff`, read.Data)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port := freePort(t)
			addr := "127.0.0.1:" + port
			server := start(t, nil, "server", "--addr", addr, "--reply", "ok")
			server.waitFor(t, "accept", "begin")
			tt.client(dial(t, addr))
			code, events, stderr := server.wait(t)
			// The hint names the server's own port; the page quotes 1234.
			stderr = strings.ReplaceAll(stderr, "nc 127.0.0.1 "+port, "nc 127.0.0.1 1234")
			require.Equal(t, tt.wantCode, code, stderr)
			if tt.wantCode == 0 {
				require.Empty(t, stderr)
			} else {
				require.Equal(t, tt.wantStderr, stderr)
				require.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
			}
			checkAllClosed(t, events)
			if tt.check != nil {
				tt.check(t, events)
			}
		})
	}
}

func TestForeverSurvivesABadClient(t *testing.T) {
	port := freePort(t)
	addr := "127.0.0.1:" + port
	server := start(t, nil, "server", "--addr", addr, "--reply", "ok", "--forever")
	server.waitFor(t, "accept", "begin")
	dial(t, addr).Close() // a client that says nothing
	server.waitFor(t, "accept", "begin")
	c := dial(t, addr)
	c.Write([]byte("hi"))
	reply, _ := io.ReadAll(io.LimitReader(c, 2))
	require.Equal(t, "ok", string(reply))
	c.Close()
	server.waitFor(t, "accept", "begin")
	server.cmd.Process.Signal(os.Interrupt)
	code, events, stderr := server.wait(t)
	require.Equal(t, 130, code)
	stderr = strings.ReplaceAll(stderr, "nc 127.0.0.1 "+port, "nc 127.0.0.1 1234") // the hint names the server's port
	require.Equal(t, msgForeverBadClient+fmt.Sprintf(msgInterruptedData, "Ctrl-C (SIGINT)"), stderr)
	checkAllClosed(t, events)
}

func TestSignalWhileBlocked(t *testing.T) {
	blocked := []struct {
		name  string
		args  func(t *testing.T) []string
		op    string
		stdin io.Reader
	}{
		{"server in accept", func(t *testing.T) []string {
			return []string{"server", "--addr", "127.0.0.1:0", "--reply", "x"}
		}, "accept", nil},
		{"client in read", func(t *testing.T) []string {
			addr := foreignServer(t, func(c *net.TCPConn) { io.Copy(io.Discard, c) }) // never replies
			return []string{"client", "--addr", addr, "--message", "hi"}
		}, "read", nil},
		{"client at the prompt", func(t *testing.T) []string {
			addr := foreignServer(t, func(c *net.TCPConn) { io.Copy(io.Discard, c) })
			return []string{"client", "--addr", addr}
		}, "getsockname", silentStdin(t)},
	}
	signals := []struct {
		sig    os.Signal
		code   int
		name   string
		reason string
	}{{os.Interrupt, 130, "Ctrl-C (SIGINT)", "SIGINT"}, {syscall.SIGTERM, 143, "SIGTERM", "SIGTERM"}}
	for _, b := range blocked {
		for _, s := range signals {
			t.Run(b.name+"/"+s.name, func(t *testing.T) {
				p := start(t, b.stdin, b.args(t)...)
				phase := "begin"
				if b.op == "getsockname" {
					phase = "end" // then the client waits for a line of stdin
				}
				p.waitFor(t, b.op, phase)
				time.Sleep(20 * time.Millisecond) // into the kernel
				require.NoError(t, p.cmd.Process.Signal(s.sig))
				code, events, stderr := p.wait(t)
				require.Equal(t, s.code, code, stderr)
				require.Equal(t, fmt.Sprintf(msgInterruptedData, s.name), stderr)
				checkAllClosed(t, events)
				if b.op != "getsockname" {
					e, ok := find(events, events[0].Peer, b.op, "end")
					require.True(t, ok, "the blocked %s never ended", b.op)
					require.Equal(t, s.reason, e.Interrupt)
				}
			})
		}
	}
}

// zeros reads as an endless run of zero bytes, like /dev/zero.
type zeros struct{}

func (zeros) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

// silentStdin is a standard input on which nothing arrives until the test
// ends. (An *os.File, so that exec's Wait does not wait on a copier.)
func silentStdin(t *testing.T) *os.File {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	t.Cleanup(func() { r.Close(); w.Close() })
	return r
}

func TestClientErrors(t *testing.T) {
	tests := []struct {
		name       string
		args       func(t *testing.T) []string
		stdin      io.Reader
		wantStderr string
		checkTrace func(t *testing.T, events []event)
	}{
		{
			name: "nobody listens",
			args: func(t *testing.T) []string {
				return []string{"--addr", "127.0.0.1:" + freePort(t), "--message", "hi"}
			},
			wantStderr: msgRefused,
			checkTrace: func(t *testing.T, events []event) {
				e, _ := find(events, "client", "connect", "end")
				require.Equal(t, "ECONNREFUSED", e.Errno)
				require.Equal(t, 5, e.Step, "a refused connect is a failed step 5")
			},
		},
		{
			name: "stdin closed at the prompt",
			args: func(t *testing.T) []string {
				return []string{"--addr", foreignServer(t, func(c *net.TCPConn) { io.Copy(io.Discard, c) })}
			},
			stdin:      strings.NewReader(""),
			wantStderr: msgStdinEOF,
		},
		{
			name: "the server never replies",
			args: func(t *testing.T) []string {
				return []string{"--addr", foreignServer(t, func(c *net.TCPConn) { io.Copy(io.Discard, c) }), "--message", "hi", "--read-timeout", "300ms"}
			},
			wantStderr: msgReadTimeout,
			checkTrace: func(t *testing.T, events []event) {
				e, _ := find(events, "client", "read", "end")
				require.Equal(t, "read-timeout", e.Interrupt)
			},
		},
		{
			name: "the server closes without replying",
			args: func(t *testing.T) []string {
				return []string{"--addr", foreignServer(t, func(c *net.TCPConn) { c.Read(make([]byte, 10)) }), "--message", "hi"}
			},
			wantStderr: msgClosedWithoutReply,
		},
		{
			name: "an empty line on stdin",
			args: func(t *testing.T) []string {
				return []string{"--addr", foreignServer(t, func(c *net.TCPConn) { io.Copy(io.Discard, c) })}
			},
			stdin:      strings.NewReader("\n"),
			wantStderr: msgStdinEmpty,
		},
		{
			name: "a line with no end on stdin",
			args: func(t *testing.T) []string {
				return []string{"--addr", foreignServer(t, func(c *net.TCPConn) { io.Copy(io.Discard, c) })}
			},
			stdin:      io.LimitReader(zeros{}, 1<<20),
			wantStderr: msgLineTooLong,
		},
		{
			name: "connect times out",
			args: func(t *testing.T) []string {
				return []string{"--addr", fullBacklog(t), "--message", "hi", "--timeout", "300ms"}
			},
			wantStderr: msgConnectTimeout,
			checkTrace: func(t *testing.T, events []event) {
				e, _ := find(events, "client", "connect", "end")
				require.Equal(t, "connect-timeout", e.Interrupt)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args(t)
			code, events, stderr := start(t, tt.stdin, append([]string{"client"}, args...)...).wait(t)
			require.Equal(t, 1, code, stderr)
			require.Equal(t, tt.wantStderr, portless(stderr))
			checkAllClosed(t, events)
			if tt.checkTrace != nil {
				tt.checkTrace(t, events)
			}
		})
	}
}

// portless replaces port numbers after 127.0.0.1: with PORT.
func portless(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "127.0.0.1:")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+len("127.0.0.1:")])
		s = s[i+len("127.0.0.1:"):]
		j := 0
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if s[:j] == "0" {
			b.WriteString("0") // "127.0.0.1:0" is advice, not a port that was used
		} else {
			b.WriteString("PORT")
		}
		s = s[j:]
	}
}

// fullBacklog returns the address of a listener whose accept queue is full,
// so that a new connect gets no answer to its SYN.
func fullBacklog(t *testing.T) string {
	t.Helper()
	lc := net.ListenConfig{}
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f, err := ln.(*net.TCPListener).File()
	require.NoError(t, err)
	require.NoError(t, syscall.Listen(int(f.Fd()), 0))
	f.Close()
	t.Cleanup(func() { ln.Close() })
	var conns []net.Conn
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for range 8 {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 200*time.Millisecond)
		if err != nil {
			return ln.Addr().String() // this one was not answered: full
		}
		conns = append(conns, c)
	}
	t.Fatal("could not fill the backlog")
	return ""
}

func TestServerBindErrors(t *testing.T) {
	t.Run("port in use", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		code, events, stderr := start(t, nil, "server", "--addr", ln.Addr().String(), "--reply", "x").wait(t)
		require.Equal(t, 1, code)
		require.Equal(t, msgAddrInUse, portless(stderr))
		e, _ := find(events, "server", "bind", "end")
		require.Equal(t, "EADDRINUSE", e.Errno)
		checkAllClosed(t, events)
	})
	t.Run("privileged port", func(t *testing.T) {
		cmd := exec.Command(socklabBinary(t), "server", "--addr", "127.0.0.1:80", "--reply", "x")
		if os.Geteuid() == 0 {
			// As root any port binds: run as nobody to see the refusal.
			setpriv, err := exec.LookPath("setpriv")
			if err != nil {
				t.Skip("running as root without setpriv: cannot drop the privilege to bind port 80")
			}
			os.Chmod(filepath.Dir(socklabBinary(t)), 0o755)
			cmd = exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", socklabBinary(t), "server", "--addr", "127.0.0.1:80", "--reply", "x")
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, stderr.String())
		require.Equal(t, 1, exit.ExitCode())
		require.Equal(t, msgPrivileged, stderr.String())
	})
}

func TestServerOnEveryInterfaceWarns(t *testing.T) {
	p := start(t, nil, "server", "--addr", "0.0.0.0:0", "--reply", "x")
	bound := p.waitFor(t, "getsockname", "end")
	p.waitFor(t, "accept", "begin")
	require.NoError(t, p.cmd.Process.Signal(os.Interrupt))
	code, _, stderr := p.wait(t)
	require.Equal(t, 130, code)
	require.True(t, strings.HasPrefix(bound.Local, "0.0.0.0:"), bound.Local)
	require.Equal(t, "socklab: warning: listening on "+bound.Local+": other machines on the network can connect to this server\n"+
		fmt.Sprintf(msgInterruptedData, "Ctrl-C (SIGINT)"), stderr)
}

func TestClientStepMode(t *testing.T) {
	// One peer on its own pauses before each of its steps, in the order
	// they come: create, connect, write, read, close.
	addr := foreignServer(t, func(c *net.TCPConn) {
		buf := make([]byte, 10)
		n, _ := c.Read(buf)
		c.Write(buf[:n])
		io.Copy(io.Discard, c)
	})
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"client", "--step", "--addr", addr, "--message", "hi", "--format=json"},
		env{stdin: strings.NewReader(strings.Repeat("\n", 10)), stdout: &stdout, stderr: &stderr})
	require.Equal(t, 0, code, stderr.String())
	var steps []string
	for _, line := range strings.Split(stderr.String(), "\n") {
		if _, rest, ok := strings.Cut(line, "▶ next: ["); ok {
			steps = append(steps, strings.SplitN(rest, "]", 2)[0])
		}
	}
	require.Equal(t, []string{"4", "5", "9", "10", "11"}, steps)
}

// TestServerAndClientShareADayClock: with --clock=day in both terminals,
// socklab server and socklab client stamp since local midnight, so the
// client's read of the reply is never stamped before the server's write
// of it, though the client started later; a bad clock is one usage line.
func TestServerAndClientShareADayClock(t *testing.T) {
	addr := "127.0.0.1:" + freePort(t)
	server := start(t, nil, "server", "--addr", addr, "--reply", "hi", "--clock=day")
	server.waitFor(t, "accept", "begin")
	time.Sleep(50 * time.Millisecond) // the second terminal starts later
	client := start(t, nil, "client", "--addr", addr, "--message", "hello", "--clock=day")
	code, cevents, stderr := client.wait(t)
	require.Equal(t, 0, code, stderr)
	code, sevents, stderr := server.wait(t)
	require.Equal(t, 0, code, stderr)
	write, _ := find(sevents, "server", "write", "begin")
	read, _ := find(cevents, "client", "read", "end")
	if read.TimeNS <= write.TimeNS {
		t.Errorf("the client's read stamped %v, the server's write %v: the read before its write", time.Duration(read.TimeNS), time.Duration(write.TimeNS))
	}
	if since := time.Since(time.Date(time.Now().Year(), time.Now().Month(), time.Now().Day(), 0, 0, 0, 0, time.Local)); time.Duration(read.TimeNS) > since {
		t.Errorf("the read is stamped %v since midnight, later than now (%v)", time.Duration(read.TimeNS), since)
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"client", "--clock=noon"}, env{stdout: &out, stderr: &errOut}); code != 2 || strings.Count(errOut.String(), "\n") != 1 {
		t.Errorf("--clock=noon: exit %d, %q; want 2 and one line", code, errOut.String())
	}
}
