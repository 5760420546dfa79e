package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/socklab/socklab/lessons"
	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/i18n"
	"github.com/socklab/socklab/trace/web"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// runner plays a real lesson as socklab web does: its script, paced by
// the page. ran is told each time a run returns.
func runner(ran chan<- error) web.Runner {
	return func(ctx context.Context, name string, sink trace.Sink, pace trace.Pace) error {
		l, ok := lessons.Lookup(name)
		if !ok {
			return errors.New("no lesson " + name)
		}
		tr := trace.New(sink).SetKernelState(true).SetGate(trace.NewConductor(ctx, l.Script, pace).Settle(20 * time.Millisecond))
		err := l.Run(ctx, tr, lessons.Options{Message: lessons.DefaultMessage, Reply: lessons.DefaultReply, Clients: 1})
		if ran != nil {
			ran <- err
		}
		return err
	}
}

func lessonList() []web.Lesson {
	var out []web.Lesson
	for _, l := range lessons.All() {
		out = append(out, web.Lesson{Name: l.Name, Title: map[i18n.Lang]string{i18n.EN: l.Name}})
	}
	return out
}

// serve starts a server for opts on a test HTTP server.
func serve(t *testing.T, opts web.Options) (*web.Server, *httptest.Server) {
	t.Helper()
	srv, err := web.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		srv.Close()
		hs.Close()
	})
	return srv, hs
}

// message is any message of the server's (docs/web.md).
type message struct {
	Type    string           `json:"type"`
	Run     int              `json:"run"`
	Mode    string           `json:"mode"`
	Running bool             `json:"running"`
	Lesson  string           `json:"lesson"`
	Event   *trace.JSONEvent `json:"event"`
	Next    *struct {
		Peer string   `json:"peer"`
		Op   trace.Op `json:"op"`
		Step int      `json:"step"`
	} `json:"next"`
	Stopped bool              `json:"stopped"`
	Error   map[string]string `json:"error"`
	Message map[string]string `json:"message"`
	Events  []json.RawMessage `json:"events"`
	DelayMS *int64            `json:"delay_ms"`
	Key     string            `json:"key"`
}

// pageConn is a test's page: a WebSocket to the server.
// A goroutine reads its messages into msgs: a Read whose context ends
// closes the connection, so waiting with a timeout is done here.
type pageConn struct {
	t    *testing.T
	conn *websocket.Conn
	msgs chan []byte
}

func dial(t *testing.T, hs *httptest.Server, srv *web.Server) *pageConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/ws?token="+srv.Token(), nil)
	if err != nil {
		t.Fatalf("dial the page's socket: %v", err)
	}
	conn.SetReadLimit(1 << 24)
	p := &pageConn{t, conn, make(chan []byte, 1024)}
	read := make(chan struct{})
	go func() {
		defer close(read)
		defer close(p.msgs)
		for {
			_, b, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			p.msgs <- b
		}
	}()
	t.Cleanup(func() {
		conn.CloseNow()
		<-read
	})
	return p
}

// read returns the next message, failing the test if none comes in
// seconds: it names what it waited for.
func (p *pageConn) read(waitingFor string) message {
	p.t.Helper()
	var b []byte
	select {
	case msg, ok := <-p.msgs:
		if !ok {
			p.t.Fatalf("waiting for %s: the server closed the socket", waitingFor)
		}
		b = msg
	case <-time.After(5 * time.Second):
		p.t.Fatalf("waiting for %s: nothing came in 5s", waitingFor)
	}
	var m message
	if err := json.Unmarshal(b, &m); err != nil {
		p.t.Fatalf("a message that is not JSON: %q", b)
	}
	return m
}

func (p *pageConn) send(cmd map[string]any) {
	p.t.Helper()
	b, _ := json.Marshal(cmd)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.conn.Write(ctx, websocket.MessageText, b); err != nil {
		p.t.Fatalf("send %s: %v", b, err)
	}
}

// expectNothing checks that no message comes for d: the run waits.
func (p *pageConn) expectNothing(d time.Duration) {
	p.t.Helper()
	select {
	case b := <-p.msgs:
		p.t.Fatalf("the run went on without Next: %s", b)
	case <-time.After(d):
	}
}

func TestTokenIsRequired(t *testing.T) {
	srv, hs := serve(t, web.Options{Run: runner(nil), Lessons: lessonList(), Lesson: "basic"})
	wrong := []byte(srv.Token())
	if wrong[0] = '0'; srv.Token()[0] == '0' {
		wrong[0] = '1'
	}
	for _, tc := range []struct {
		name, path string
		want       int
	}{
		{"page without token", "/", http.StatusForbidden},
		{"page with a wrong token", "/?token=" + string(wrong), http.StatusForbidden},
		{"info without token", "/api/info", http.StatusForbidden},
		{"socket without token", "/ws", http.StatusForbidden},
		{"page", "/?token=" + srv.Token(), http.StatusOK},
		{"info", "/api/info?token=" + srv.Token(), http.StatusOK},
		{"the page's code", "/static/index.html", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Get(hs.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("GET %s: got %d, want %d (%s)", tc.path, resp.StatusCode, tc.want, body)
			}
		})
	}
}

// TestRefusalInTheReadersLanguage: the page that refuses a missing token
// speaks the browser's language when socklab does, else socklab web's.
func TestRefusalInTheReadersLanguage(t *testing.T) {
	_, hs := serve(t, web.Options{Run: runner(nil), Lessons: lessonList(), Lesson: "basic", Lang: i18n.ZH})
	for _, tc := range []struct{ accept, want string }{
		{"zh-CN,zh;q=0.9,en;q=0.8", i18n.ZH.T("web.forbidden")},
		{"en-GB,en;q=0.9", i18n.EN.T("web.forbidden")},
		{"fr-FR,fr;q=0.9", i18n.ZH.T("web.forbidden")}, // socklab web's own
		{"", i18n.ZH.T("web.forbidden")},
	} {
		req, _ := http.NewRequest("GET", hs.URL+"/", nil)
		if tc.accept != "" {
			req.Header.Set("Accept-Language", tc.accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || strings.TrimSpace(string(body)) != tc.want {
			t.Errorf("Accept-Language %q: %d %q, want 403 %q", tc.accept, resp.StatusCode, body, tc.want)
		}
	}
}

func TestInfo(t *testing.T) {
	srv, hs := serve(t, web.Options{Run: runner(nil), Lessons: lessonList(), Lesson: "echo", Lang: i18n.ZH})
	resp, err := http.Get(hs.URL + "/api/info?token=" + srv.Token())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var in struct {
		V         int                          `json:"v"`
		Mode      string                       `json:"mode"`
		Lang      string                       `json:"lang"`
		Lesson    string                       `json:"lesson"`
		Lessons   []web.Lesson                 `json:"lessons"`
		Catalogue map[string]map[string]string `json:"catalogue"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&in); err != nil {
		t.Fatal(err)
	}
	if in.V != web.ProtocolVersion || in.Mode != "live" || in.Lang != "zh" || in.Lesson != "echo" || len(in.Lessons) != len(lessons.All()) {
		t.Errorf("got v=%d mode=%q lang=%q lesson=%q %d lessons, want v=%d live zh echo %d", in.V, in.Mode, in.Lang, in.Lesson, len(in.Lessons), web.ProtocolVersion, len(lessons.All()))
	}
	for _, key := range []string{"step.1.call", "explain.bind", "peer.server"} {
		if in.Catalogue["zh"][key] != i18n.ZH.T(key) || in.Catalogue["en"][key] != i18n.EN.T(key) {
			t.Errorf("catalogue[%s]: got %q, %q", key, in.Catalogue["en"][key], in.Catalogue["zh"][key])
		}
	}
	if _, leaked := in.Catalogue["en"]["usage.main"]; leaked {
		t.Errorf("the catalogue carries keys the page does not show")
	}
}

func TestOriginIsChecked(t *testing.T) {
	srv, hs := serve(t, web.Options{Run: runner(nil), Lessons: lessonList(), Lesson: "basic"})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u := "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws?token=" + srv.Token()
	conn, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"http://evil.example"}}})
	if err == nil {
		conn.CloseNow()
		t.Fatal("a page of another origin opened the socket")
	}
	if resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("got %v, want 403", resp)
	}
}

// TestStepThroughBasic plays the basic lesson from a page: each gated call
// is announced, waits (really: nothing happens until Next), and begins
// after Next; the run ends with all 11 steps.
func TestStepThroughBasic(t *testing.T) {
	srv, hs := serve(t, web.Options{Run: runner(nil), Lessons: lessonList(), Lesson: "basic"})
	p := dial(t, hs, srv)
	if m := p.read("hello"); m.Type != "hello" || m.Mode != "live" || m.Running {
		t.Fatalf("got %+v, want a hello of a live server with no run", m)
	}
	p.send(map[string]any{"cmd": "run", "lesson": "basic", "delay_ms": 0})
	if m := p.read("the run's start"); m.Type != "run" || m.Lesson != "basic" {
		t.Fatalf("got %+v, want the run's start", m)
	}
	steps := map[int]bool{}
	var waited *message
	waits := 0
	for {
		m := p.read("the run's next message")
		switch m.Type {
		case "waiting":
			waits++
			if waits == 3 {
				// A person thinks: the call waits for as long.
				p.expectNothing(300 * time.Millisecond)
			}
			waited = &m
			p.send(map[string]any{"cmd": "next"})
		case "event":
			e := m.Event
			if waited != nil && e.Peer == waited.Next.Peer && e.Op == waited.Next.Op {
				if e.Phase != trace.Begin {
					t.Errorf("after waiting for %s %s, got its %s", e.Peer, e.Op, e.Phase)
				}
				waited = nil
			}
			steps[e.Step] = true
		case "done":
			if m.Stopped || m.Error != nil {
				t.Fatalf("got %+v, want a run that ended well", m)
			}
			for step := 1; step <= 11; step++ {
				if !steps[step] {
					t.Errorf("step %d never happened", step)
				}
			}
			basic, _ := lessons.Lookup("basic")
			if want := len(basic.Script); waits != want {
				t.Errorf("got %d waits, want one per entry of the script (%d)", waits, want)
			}
			return
		default:
			t.Fatalf("unexpected message %+v", m)
		}
	}
}

// TestStopClosesTheSockets stops a run with the server blocked in accept:
// the run ends stopped, and every socket it made is closed, the closes
// traced.
func TestStopClosesTheSockets(t *testing.T) {
	srv, hs := serve(t, web.Options{Run: runner(nil), Lessons: lessonList(), Lesson: "basic"})
	p := dial(t, hs, srv)
	p.read("hello")
	p.send(map[string]any{"cmd": "run", "lesson": "basic"})
	open := map[int]bool{}
	for {
		m := p.read("the run's next message")
		switch m.Type {
		case "waiting":
			if m.Next.Op == trace.OpCreate && m.Next.Peer == "client" {
				p.send(map[string]any{"cmd": "stop"})
				continue
			}
			p.send(map[string]any{"cmd": "next"})
		case "event":
			e := m.Event
			if e.Phase == trace.End && e.Op == trace.OpCreate && e.Ret != nil && *e.Ret >= 0 {
				open[*e.Ret] = true
			}
			if e.Phase == trace.End && e.Op == trace.OpClose && e.FD != nil {
				delete(open, *e.FD)
			}
		case "done":
			if !m.Stopped {
				t.Errorf("got %+v, want a stopped run", m)
			}
			if len(open) > 0 {
				t.Errorf("sockets left open: %v", open)
			}
			return
		}
	}
}

// TestLastPageGoneStopsTheRun: a run no page watches is stopped once the
// grace time is over, its sockets closed.
func TestLastPageGoneStopsTheRun(t *testing.T) {
	ran := make(chan error, 1)
	srv, hs := serve(t, web.Options{Run: runner(ran), Lessons: lessonList(), Lesson: "basic", Grace: 50 * time.Millisecond})
	p := dial(t, hs, srv)
	p.read("hello")
	p.send(map[string]any{"cmd": "run", "lesson": "basic"})
	for m := p.read("the first wait"); m.Type != "waiting"; m = p.read("the first wait") {
	}
	p.conn.Close(websocket.StatusNormalClosure, "")
	select {
	case err := <-ran:
		if !errors.Is(err, trace.ErrStopped) {
			t.Errorf("the run ended with %v, want it stopped", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the run goes on with no page watching it")
	}
}

// TestLatePageGetsTheRunSoFar: a page that opens during a run (a reload)
// gets the run's messages so far.
func TestLatePageGetsTheRunSoFar(t *testing.T) {
	srv, hs := serve(t, web.Options{Run: runner(nil), Lessons: lessonList(), Lesson: "basic"})
	first := dial(t, hs, srv)
	first.read("hello")
	first.send(map[string]any{"cmd": "run", "lesson": "basic"})
	seen := 0
	for waits := 0; waits < 3; {
		m := first.read("three waits")
		seen++
		if m.Type == "waiting" {
			if waits++; waits < 3 {
				first.send(map[string]any{"cmd": "next"})
			}
		}
	}
	late := dial(t, hs, srv)
	if m := late.read("hello"); !m.Running || m.Lesson != "basic" {
		t.Errorf("got %+v, want a hello of a running basic", m)
	}
	for i := range seen {
		if m, want := late.read("the run so far"), "run"; i == 0 && m.Type != want {
			t.Errorf("got %q first, want %q", m.Type, want)
		}
	}
	late.send(map[string]any{"cmd": "stop"})
	for m := first.read("done"); m.Type != "done"; m = first.read("done") {
	}
}

func TestCommandsRefused(t *testing.T) {
	srv, hs := serve(t, web.Options{Run: runner(nil), Lessons: lessonList(), Lesson: "basic"})
	p := dial(t, hs, srv)
	p.read("hello")
	for _, tc := range []struct {
		name string
		cmd  map[string]any
		want string
	}{
		{"unknown lesson", map[string]any{"cmd": "run", "lesson": "../../bin/sh"}, "err.web.lesson"},
		{"unknown command", map[string]any{"cmd": "exec", "lesson": "basic"}, "err.web.command"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p.send(tc.cmd)
			m := p.read("the refusal")
			if m.Type != "error" || m.Message["en"] != i18n.EN.T(tc.want) || m.Message["zh"] != i18n.ZH.T(tc.want) {
				t.Errorf("got %+v, want the error %s", m, tc.want)
			}
		})
	}
}

func TestReplay(t *testing.T) {
	f, err := os.Open("testdata/sample-basic.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines, err := web.ReadReplay(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	srv, hs := serve(t, web.Options{Replay: lines, Lessons: lessonList(), Lesson: "basic"})
	p := dial(t, hs, srv)
	if m := p.read("hello"); m.Mode != "replay" {
		t.Errorf("got mode %q, want replay", m.Mode)
	}
	m := p.read("the replay")
	if m.Type != "replay" || len(m.Events) != len(lines) {
		t.Fatalf("got a %q of %d events, want the replay's %d", m.Type, len(m.Events), len(lines))
	}
	p.send(map[string]any{"cmd": "run", "lesson": "basic"})
	if m := p.read("the refusal"); m.Type != "error" || m.Message["en"] != i18n.EN.T("err.web.replay") {
		t.Errorf("got %+v, want run refused in a replay", m)
	}
}

func TestReadReplayRefuses(t *testing.T) {
	good := `{"v":2,"seq":1,"time_ns":1,"peer":"server","role":"server","op":"create","phase":"begin"}`
	for _, tc := range []struct {
		name, in string
		line     int
	}{
		{"empty", "", 0},
		{"not JSON", good + "\nhello\n", 2},
		{"JSON, not a trace", `{"name":"x"}`, 1},
		{"a newer schema", `{"v":99,"seq":1,"op":"create"}`, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := web.ReadReplay(strings.NewReader(tc.in))
			var re *web.ReplayError
			if !errors.As(err, &re) || re.Line != tc.line {
				t.Errorf("got %v, want a ReplayError at line %d", err, tc.line)
			}
		})
	}
}

// TestCloseSendsTheRunsEnd: Close (Ctrl-C) stops the run, and each page
// gets the run's last closes and its end before the goodbye.
func TestCloseSendsTheRunsEnd(t *testing.T) {
	srv, hs := serve(t, web.Options{Run: runner(nil), Lessons: lessonList(), Lesson: "basic"})
	p := dial(t, hs, srv)
	p.read("hello")
	p.send(map[string]any{"cmd": "run", "lesson": "basic"})
	for m := p.read("the first wait"); m.Type != "waiting" || m.Next.Op != trace.OpListen; m = p.read("the wait before listen") {
		if m.Type == "waiting" {
			p.send(map[string]any{"cmd": "next"})
		}
	}
	go srv.Close()
	closes := 0
	for {
		select {
		case b, ok := <-p.msgs:
			if !ok {
				t.Fatalf("the page was disconnected before the run's end (%d closes seen)", closes)
			}
			var m message
			json.Unmarshal(b, &m)
			if m.Type == "event" && m.Event.Op == trace.OpClose && m.Event.Phase == trace.End {
				closes++
			}
			if m.Type == "done" {
				if !m.Stopped || closes == 0 {
					t.Errorf("got done stopped=%v after %d closes, want a stopped run whose socket was closed", m.Stopped, closes)
				}
				return
			}
		case <-time.After(5 * time.Second):
			t.Fatal("waiting for the run's end after Close: nothing came in 5s")
		}
	}
}

// TestHelloCarriesTheDelay: a page that opens during a run that plays by
// itself is told the run's speed (not "by hand"), and a change of speed
// goes to every page and to those that come later.
func TestHelloCarriesTheDelay(t *testing.T) {
	srv, hs := serve(t, web.Options{Run: runner(nil), Lessons: lessonList(), Lesson: "basic"})
	first := dial(t, hs, srv)
	if m := first.read("hello"); m.DelayMS != nil {
		t.Errorf("with no run, hello carries delay_ms %d", *m.DelayMS)
	}
	// A long delay: the run waits before its first step.
	first.send(map[string]any{"cmd": "run", "lesson": "basic", "delay_ms": 60000})
	if m := first.read("the run"); m.Type != "run" || m.DelayMS == nil || *m.DelayMS != 60000 {
		t.Fatalf("got %+v, want the run with delay_ms 60000", m)
	}
	first.read("the first wait")
	second := dial(t, hs, srv)
	if m := second.read("hello"); !m.Running || m.DelayMS == nil || *m.DelayMS != 60000 {
		t.Errorf("a page opened during the run: hello %+v, want running with delay_ms 60000", m)
	}
	first.send(map[string]any{"cmd": "delay", "delay_ms": 45000})
	for _, p := range []*pageConn{first, second} {
		m := p.read("the new speed")
		for m.Type != "delay" {
			m = p.read("the new speed")
		}
		if m.DelayMS == nil || *m.DelayMS != 45000 {
			t.Errorf("got %+v, want delay_ms 45000", m)
		}
	}
	third := dial(t, hs, srv)
	if m := third.read("hello"); m.DelayMS == nil || *m.DelayMS != 45000 {
		t.Errorf("a page opened after the change: hello %+v, want delay_ms 45000", m)
	}
	first.send(map[string]any{"cmd": "stop"})
	for m := first.read("done"); m.Type != "done"; m = first.read("done") {
	}
}

// TestNoticeGoesToThePages: what a run says of itself (web.Notice) goes
// to its pages and to a page that comes later.
func TestNoticeGoesToThePages(t *testing.T) {
	run := func(ctx context.Context, _ string, _ trace.Sink, _ trace.Pace) error {
		web.Notice(ctx, "web.notice.nowire")
		<-ctx.Done()
		return context.Cause(ctx)
	}
	srv, hs := serve(t, web.Options{Run: run, Lessons: lessonList(), Lesson: "basic"})
	first := dial(t, hs, srv)
	first.read("hello")
	first.send(map[string]any{"cmd": "run", "lesson": "basic"})
	first.read("the run")
	if m := first.read("the notice"); m.Type != "notice" || m.Key != "web.notice.nowire" {
		t.Errorf("got %+v, want the notice web.notice.nowire", m)
	}
	late := dial(t, hs, srv)
	late.read("hello")
	late.read("the run")
	if m := late.read("the notice"); m.Type != "notice" || m.Key != "web.notice.nowire" {
		t.Errorf("a later page got %+v, want the notice", m)
	}
	web.Notice(context.Background(), "web.notice.nowire") // outside a run: nothing
	first.send(map[string]any{"cmd": "stop"})
	for m := first.read("done"); m.Type != "done"; m = first.read("done") {
	}
}
