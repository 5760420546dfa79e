package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/coder/websocket"
)

// The page's test hooks are listed at the top of trace/web/static/app.js.

// browser returns a headless Chromium's context, or skips the test where
// there is none (never in CI, which installs it).
func browser(t *testing.T) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no Chromium in CI: .ci/run installs it (apt-get install chromium)")
		}
		t.Skip("no Chromium here: apt-get install chromium to run the page's tests")
	}
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox refuses to start
		chromedp.WindowSize(1280, 720),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// The page as a 1280x720 projector shows it, whatever the window's
	// frame takes.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 720)); err != nil { // starts the browser
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// startWeb runs socklab web with args until the test ends, and returns the
// page's address.
func startWeb(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	var stdout, stderr lockedBuffer
	exited := make(chan int, 1)
	go func() { exited <- run(ctx, append([]string{"web"}, args...), env{stdout: &stdout, stderr: &stderr}) }()
	t.Cleanup(func() {
		cancel(context.Canceled)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("socklab web did not stop")
		}
	})
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if url := webURL.FindString(stdout.String()); url != "" {
			return url
		}
		if time.Now().After(deadline) {
			t.Fatalf("socklab web printed no address in 5s: stdout %q, stderr %q", stdout.String(), stderr.String())
		}
	}
}

// waitFor waits until the page's JavaScript expression is true, failing
// in seconds with what it waited for.
func waitFor(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		phase, _ := chromedp.Run(context.WithoutCancel(ctx), chromedp.Evaluate[string](`document.body.dataset.phase`))
		status, _ := chromedp.Run(context.WithoutCancel(ctx), chromedp.Evaluate[string](`document.querySelector("#status").textContent`))
		t.Fatalf("waiting for %s (%s): %v (the page's phase: %q, its status: %q)", what, expr, err, phase, status)
	}
}

func evaluate[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// act does what a person does on the page: a click, a key.
func act(t *testing.T, ctx context.Context, a chromedp.Action[chromedp.Void]) {
	t.Helper()
	if _, err := chromedp.Run(ctx, a); err != nil {
		t.Fatalf("on the page: %v", err)
	}
}

// press presses a button of the page. The click is the button's own (its
// handler runs as for a person's click), not a mouse event at its
// coordinates: on a loaded CI machine the toolbar may still move as the
// page's fonts settle, and a click at where the button was is lost.
func press(t *testing.T, ctx context.Context, button string) {
	t.Helper()
	act(t, ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).click()`, button)))
}

// drawnSteps is the step numbers of the call boxes the page shows.
const drawnSteps = `[...new Set([...document.querySelectorAll('#diagram g.call')].flatMap(g => [+g.dataset.step, +g.dataset.endStep]).filter(n => n > 0))].sort((a, b) => a - b)`

// TestBrowserStepsThroughBasic drives the page as a teacher does: Run,
// then Next three times; the diagram shows steps 1 to 3 and LISTEN on the
// server's lifeline while the kernel really has the socket listening; then
// the lesson is played to its end (all 11 steps drawn), and the page
// switches to Chinese. With -update, the finished lesson's screenshot is
// written to docs/web-basic.png.
func TestBrowserStepsThroughBasic(t *testing.T) {
	ctx := browser(t)
	url := startWeb(t, "basic", "--lang=en")
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	// Run is enabled once the page's socket is open.
	waitFor(t, ctx, "the page to be ready", `document.body.dataset.phase === "idle" && !document.querySelector("#run").disabled`)

	// A second page, the test's own, sees the events: the listening
	// socket's address comes from the real run.
	watch := watchRun(t, url)

	press(t, ctx, "#run")
	waitFor(t, ctx, "the first step's turn", `document.body.dataset.phase === "waiting"`)
	for range 3 {
		n := evaluate[int](t, ctx, `document.querySelectorAll('#diagram g.call').length`)
		act(t, ctx, chromedp.KeyEvent(kb.ArrowRight))
		waitFor(t, ctx, "the next call's box", fmt.Sprintf(`document.querySelectorAll('#diagram g.call').length > %d && document.body.dataset.phase === "waiting"`, n))
	}
	if got := evaluate[[]int](t, ctx, drawnSteps); !slices.Equal(got, []int{1, 2, 3}) {
		t.Errorf("after three Nexts the page shows steps %v, want [1 2 3]", got)
	}
	waitFor(t, ctx, "LISTEN on the server's lifeline", `[...document.querySelectorAll('#diagram text.state[data-peer="server"]')].some(s => s.textContent.includes("LISTEN"))`)
	listening := watch.listenAddr(t)
	if out, err := exec.Command("ss", "-Htln", "sport = :"+listening[strings.LastIndex(listening, ":")+1:]).Output(); err != nil {
		t.Logf("ss: %v (the kernel's side not checked)", err)
	} else if !strings.Contains(string(out), "LISTEN") {
		t.Errorf("the page says LISTEN, the kernel shows no socket listening on %s: %q", listening, out)
	}

	// To the end, one Next at a time.
	for deadline := time.Now().Add(30 * time.Second); ; {
		waitFor(t, ctx, "a step's turn or the end", `["waiting", "done"].includes(document.body.dataset.phase)`)
		if evaluate[string](t, ctx, `document.body.dataset.phase`) == "done" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lesson did not end in 30 s of Nexts")
		}
		seq := evaluate[string](t, ctx, `document.body.dataset.events`)
		act(t, ctx, chromedp.KeyEvent(" "))
		waitFor(t, ctx, "the step after Next", fmt.Sprintf(`document.body.dataset.events !== %q || document.body.dataset.phase === "done"`, seq))
	}
	want := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	if got := evaluate[[]int](t, ctx, drawnSteps); !slices.Equal(got, want) {
		t.Errorf("the finished lesson shows steps %v, want %v", got, want)
	}
	if *update {
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "web-basic.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	press(t, ctx, "#lang-zh")
	waitFor(t, ctx, "the page in Chinese", `document.body.dataset.lang === "zh" && document.querySelector("#diagram").textContent.includes("服务器")`)
	if got := evaluate[[]int](t, ctx, drawnSteps); !slices.Equal(got, want) {
		t.Errorf("in Chinese the page shows steps %v, want %v", got, want)
	}
}

// TestBrowserReplays plays a saved trace: forward, back, and the slider.
func TestBrowserReplays(t *testing.T) {
	ctx := browser(t)
	saved := filepath.Join(t.TempDir(), "basic.jsonl")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"run", "basic", "--format=json", "--explain"}, env{stdout: &out, stderr: &errOut}); code != 0 {
		t.Fatalf("socklab run basic: exit %d: %s", code, errOut.String())
	}
	if err := os.WriteFile(saved, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Count(out.Bytes(), []byte("\n"))
	url := startWeb(t, "--replay", saved)
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the replay's events", fmt.Sprintf(`document.body.dataset.phase === "replay" && +document.querySelector("#timeline").max === %d`, lines))
	for i := 1; i <= 5; i++ {
		act(t, ctx, chromedp.KeyEvent(kb.ArrowRight))
		waitFor(t, ctx, fmt.Sprintf("event %d drawn", i), fmt.Sprintf(`document.body.dataset.events === "%d"`, i))
	}
	boxes := evaluate[int](t, ctx, `document.querySelectorAll('#diagram g.call').length`)
	act(t, ctx, chromedp.KeyEvent(kb.ArrowLeft))
	waitFor(t, ctx, "one event back", `document.body.dataset.events === "4"`)
	if after := evaluate[int](t, ctx, `document.querySelectorAll('#diagram g.call').length`); after > boxes {
		t.Errorf("back drew more boxes: %d, then %d", boxes, after)
	}
	// The slider to the end: the whole lesson.
	act(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector("#timeline"); s.value = s.max; s.dispatchEvent(new Event("input")); })()`))
	waitFor(t, ctx, "the whole trace drawn", fmt.Sprintf(`document.body.dataset.events === "%d"`, lines))
	if got := evaluate[[]int](t, ctx, drawnSteps); len(got) != 11 {
		t.Errorf("the replayed lesson shows steps %v, want 1 to 11", got)
	}
}

// TestBrowserDrawsTheGivenCall feeds the page a trace whose bind (both its
// events) carries a call text app.js could never derive from the event's
// parts: the page draws the text it is given, as the terminal showed it,
// rather than work it out again.
func TestBrowserDrawsTheGivenCall(t *testing.T) {
	ctx := browser(t)
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"run", "basic", "--format=json"}, env{stdout: &out, stderr: &errOut}); code != 0 {
		t.Fatalf("socklab run basic: exit %d: %s", code, errOut.String())
	}
	var lines [][]byte
	given := 0
	for _, line := range bytes.SplitAfter(out.Bytes(), []byte("\n")) {
		var ev map[string]any
		if len(line) > 0 && json.Unmarshal(line, &ev) == nil && ev["op"] == "bind" {
			if call, _ := ev["call"].(string); !strings.HasPrefix(call, "bind(") {
				t.Fatalf("the bind's line has no call text: %s", line)
			}
			ev["call"] = "bind(GIVEN)"
			line, _ = json.Marshal(ev)
			line = append(line, '\n')
			given++
		}
		lines = append(lines, line)
	}
	if given != 2 {
		t.Fatalf("found %d bind events in the trace, want its begin and end", given)
	}
	saved := filepath.Join(t.TempDir(), "given.jsonl")
	if err := os.WriteFile(saved, bytes.Join(lines, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	url := startWeb(t, "--replay", saved)
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the replay's events", fmt.Sprintf(`document.body.dataset.phase === "replay" && +document.querySelector("#timeline").max === %d`, len(lines)-1))
	act(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector("#timeline"); s.value = s.max; s.dispatchEvent(new Event("input")); })()`))
	waitFor(t, ctx, "the whole trace drawn", fmt.Sprintf(`document.body.dataset.events === "%d"`, len(lines)-1))
	if got := evaluate[string](t, ctx, `document.querySelector('#diagram g.call[data-op="bind"]').textContent`); !strings.Contains(got, "bind(GIVEN)") {
		t.Errorf("the bind's box says %q, want the call text the trace gave, bind(GIVEN)", got)
	}
}

// runWatch is a page of the test's own, reading the run's messages.
type runWatch struct {
	events chan map[string]any
}

func watchRun(t *testing.T, url string) *runWatch {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	socket := strings.Replace(strings.Replace(url, "http://", "ws://", 1), "/?", "/ws?", 1)
	conn, _, err := websocket.Dial(ctx, socket, nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	conn.SetReadLimit(1 << 24)
	w := &runWatch{events: make(chan map[string]any, 4096)}
	read := make(chan struct{})
	go func() {
		defer close(read)
		for {
			_, b, err := conn.Read(ctx)
			if err != nil {
				return
			}
			var m struct {
				Type  string
				Event map[string]any
			}
			if json.Unmarshal(b, &m) == nil && m.Type == "event" {
				select {
				case w.events <- m.Event:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		conn.CloseNow()
		<-read
	})
	return w
}

// listenAddr returns the local address of the run's listen.
func (w *runWatch) listenAddr(t *testing.T) string {
	t.Helper()
	for {
		select {
		case e := <-w.events:
			if e["op"] == "listen" && e["phase"] == "end" {
				return fmt.Sprint(e["local"])
			}
		case <-time.After(5 * time.Second):
			t.Fatal("waiting for the run's listen: none came")
		}
	}
}

// savedRun runs socklab run LESSON --format=json --explain (and args) and
// saves its trace for a replay: the file and its number of lines.
func savedRun(t *testing.T, lesson string, args ...string) (string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), append([]string{"run", lesson, "--format=json", "--explain"}, args...), env{stdout: &out, stderr: &errOut}); code != 0 {
		t.Fatalf("socklab run %s: exit %d: %s", lesson, code, errOut.String())
	}
	saved := filepath.Join(t.TempDir(), lesson+".jsonl")
	if err := os.WriteFile(saved, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return saved, bytes.Count(out.Bytes(), []byte("\n"))
}

// openReplay opens the page of a replay at url+hash, in a new tab of the
// browser (a page loaded afresh), and waits for its events; it returns
// the tab's context.
func openReplay(t *testing.T, browserCtx context.Context, url, hash string, lines int) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 720)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url+hash)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the replay's events", fmt.Sprintf(`document.body.dataset.phase === "replay" && +document.querySelector("#timeline").max === %d`, lines))
	return ctx
}

// TestBrowserReplayAtStep opens a replay's URL at a step: #step=5 draws 5
// events, #end the whole run, a changed hash moves the replay, and the
// hash follows the replay as a person steps.
func TestBrowserReplayAtStep(t *testing.T) {
	browserCtx := browser(t)
	ctx := browserCtx
	saved, lines := savedRun(t, "basic")
	url := startWeb(t, "--replay", saved)

	ctx = openReplay(t, ctx, url, "#step=5", lines)
	waitFor(t, ctx, "5 events drawn at #step=5", `document.body.dataset.events === "5"`)
	if got := evaluate[int](t, ctx, `document.querySelector("#timeline").valueAsNumber`); got != 5 {
		t.Errorf("at #step=5 the slider is at %d, want 5", got)
	}
	entries := evaluate[int](t, ctx, `history.length`)
	act(t, ctx, chromedp.KeyEvent(kb.ArrowRight))
	waitFor(t, ctx, "the hash to follow Next", `document.body.dataset.events === "6" && location.hash === "#step=6"`)
	act(t, ctx, chromedp.KeyEvent(kb.ArrowRight))
	waitFor(t, ctx, "the hash to follow Next", `document.body.dataset.events === "7" && location.hash === "#step=7"`)
	if got := evaluate[int](t, ctx, `history.length`); got != entries {
		t.Errorf("stepping added history entries: history.length %d, then %d", entries, got)
	}
	act(t, ctx, chromedp.Evaluate[chromedp.Void](`location.hash = "#step=2"`))
	waitFor(t, ctx, "2 events drawn after the hash changed", `document.body.dataset.events === "2"`)

	ctx = openReplay(t, browserCtx, url, "#end", lines)
	waitFor(t, ctx, "the whole run drawn at #end", fmt.Sprintf(`document.body.dataset.events === "%d"`, lines))
	if got := evaluate[[]int](t, ctx, drawnSteps); len(got) != 11 {
		t.Errorf("at #end the page shows steps %v, want 1 to 11", got)
	}
	if got := evaluate[string](t, ctx, `location.hash`); got != "#end" {
		t.Errorf("at the end the hash is %q, want #end", got)
	}
}

// TestBrowserEventList replays basic with its packets: the event list has
// a row for every shown call and every packet, filters them (calls,
// packets, one connection), and a click on a row moves the replay there.
func TestBrowserEventList(t *testing.T) {
	ctx := browser(t)
	saved, lines := savedRun(t, "basic", "--wire")
	data, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	calls, packets := 0, 0
	for _, line := range bytes.Split(data, []byte("\n")) {
		var ev struct {
			Op    string
			Shown *bool
		}
		if json.Unmarshal(line, &ev) != nil {
			continue
		}
		switch {
		case ev.Op == "packet":
			packets++
		case ev.Shown == nil || *ev.Shown:
			calls++
		}
	}
	if packets == 0 {
		t.Fatal("socklab run basic --wire traced no packets")
	}
	url := startWeb(t, "--replay", saved)
	ctx = openReplay(t, ctx, url, "#end", lines)
	waitFor(t, ctx, "the list's rows", fmt.Sprintf(`document.querySelectorAll("#events li[data-seq]").length === %d`, calls+packets))
	visible := func(kind string) int {
		return evaluate[int](t, ctx, fmt.Sprintf(`[...document.querySelectorAll("#events li[data-seq]")].filter(li => !li.hidden && (%q === "" || li.dataset.kind === %q)).length`, kind, kind))
	}
	// Packets out: only the calls.
	press(t, ctx, "#filter-packets")
	waitFor(t, ctx, "the packets filtered out", fmt.Sprintf(`[...document.querySelectorAll("#events li[data-seq]")].filter(li => !li.hidden).length === %d`, calls))
	if n := visible("packet"); n != 0 {
		t.Errorf("with packets filtered out, %d packet rows show", n)
	}
	// Calls out, packets in: only the packets.
	press(t, ctx, "#filter-packets")
	press(t, ctx, "#filter-calls")
	waitFor(t, ctx, "the calls filtered out", fmt.Sprintf(`[...document.querySelectorAll("#events li[data-seq]")].filter(li => !li.hidden).length === %d`, packets))
	press(t, ctx, "#filter-calls")
	// One connection: every row shown is of it.
	conn := evaluate[string](t, ctx, `[...document.querySelector("#filter-conn").options].map(o => o.value).find(v => v !== "") || ""`)
	if conn == "" {
		t.Fatal("the connection filter offers no connection")
	}
	act(t, ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const s = document.querySelector("#filter-conn"); s.value = %q; s.dispatchEvent(new Event("change")); })()`, conn)))
	waitFor(t, ctx, "one connection's rows", fmt.Sprintf(`(() => { const v = [...document.querySelectorAll("#events li[data-seq]")].filter(li => !li.hidden); return v.length > 0 && v.length < %d && v.every(li => li.dataset.conn === %q); })()`, calls+packets, conn))
	act(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector("#filter-conn"); s.value = ""; s.dispatchEvent(new Event("change")); })()`))

	// A click on the listen's row: the replay goes there.
	index := evaluate[int](t, ctx, `+[...document.querySelectorAll("#events li[data-seq]")].find(li => li.textContent.includes("listen(")).dataset.index`)
	act(t, ctx, chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll("#events li[data-seq]")].find(li => li.textContent.includes("listen(")).click()`))
	waitFor(t, ctx, "the replay at the clicked row", fmt.Sprintf(`document.body.dataset.events === "%d" && location.hash === "#step=%d"`, index+1, index+1))
	if got := evaluate[string](t, ctx, `document.querySelector("#events li.at").textContent`); !strings.Contains(got, "listen(") {
		t.Errorf("the list marks %q as now, want the listen's row", got)
	}
	if got := evaluate[int](t, ctx, `document.querySelectorAll("#events li.ahead").length`); got == 0 {
		t.Error("no row is marked as not drawn yet after a jump back")
	}
}

// TestBrowserLooksBackLive steps back through a live run while it goes
// on: Back shows one event less, the run still waits for its Next, Live
// shows the whole run again, and a click on a row scrolls the diagram
// to its call.
func TestBrowserLooksBackLive(t *testing.T) {
	ctx := browser(t)
	url := startWeb(t, "basic", "--lang=en")
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the page to be ready", `document.body.dataset.phase === "idle" && !document.querySelector("#run").disabled`)
	press(t, ctx, "#run")
	waitFor(t, ctx, "the first step's turn", `document.body.dataset.phase === "waiting"`)
	for range 4 {
		n := evaluate[int](t, ctx, `document.querySelectorAll('#diagram g.call').length`)
		press(t, ctx, "#next")
		waitFor(t, ctx, "the next call's box", fmt.Sprintf(`document.querySelectorAll('#diagram g.call').length > %d && document.body.dataset.phase === "waiting"`, n))
	}
	all := evaluate[string](t, ctx, `document.body.dataset.events`)
	press(t, ctx, "#back")
	waitFor(t, ctx, "one event back", fmt.Sprintf(`document.body.dataset.viewAt === "%d" && document.body.dataset.events === "%d"`, countOf(t, all)-1, countOf(t, all)-1))
	press(t, ctx, "#back")
	waitFor(t, ctx, "two events back", fmt.Sprintf(`document.body.dataset.events === "%d"`, countOf(t, all)-2))
	if got := evaluate[string](t, ctx, `document.body.dataset.phase`); got != "waiting" {
		t.Errorf("looking back, the run's phase is %q, want it still waiting", got)
	}
	if got := evaluate[int](t, ctx, `document.querySelectorAll("#diagram g.ghost").length`); got != 0 {
		t.Errorf("looking back, the page draws %d held calls, want none", got)
	}
	press(t, ctx, "#now")
	waitFor(t, ctx, "the whole run again", fmt.Sprintf(`document.body.dataset.viewAt === "" && document.body.dataset.events === %q`, all))
	// A row of the list: its call is picked in the diagram.
	act(t, ctx, chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll("#events li[data-seq]")].find(li => li.textContent.includes("bind(")).click()`))
	waitFor(t, ctx, "the bind picked in the diagram", `!!document.querySelector('#diagram g.call.picked[data-op="bind"]')`)
	// The run still goes on.
	press(t, ctx, "#next")
	waitFor(t, ctx, "the run going on", fmt.Sprintf(`document.body.dataset.events !== %q`, all))
}

func countOf(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

// TestBrowserTCPStates replays basic and concurrent one event at a time
// and watches the state machine: the listening socket is lit in LISTEN
// and never in ESTABLISHED (nor is its header on the server's lifeline),
// the accepted socket has states of its own, and at the end the socket
// that closed first is marked in TIME_WAIT. A click on a socket follows
// it.
func TestBrowserTCPStates(t *testing.T) {
	browserCtx := browser(t)
	for _, lesson := range []string{"basic", "concurrent"} {
		t.Run(lesson, func(t *testing.T) { testTCPStates(t, browserCtx, lesson) })
	}
}

func testTCPStates(t *testing.T, ctx context.Context, lesson string) {
	saved, lines := savedRun(t, lesson)
	data, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	var listener, accepted string
	closerPeer, closerFD := "", -1
	for _, line := range bytes.Split(data, []byte("\n")) {
		var ev struct {
			Peer, Op, Phase string
			FD, Ret         *int
		}
		if json.Unmarshal(line, &ev) != nil || ev.FD == nil {
			continue
		}
		// The first to close is the first close's Begin: its End may
		// be recorded after the other side's close (causality orders
		// only a close's Begin before the other side's EOF).
		if ev.Op == "close" && ev.Phase == "begin" && closerFD < 0 {
			closerPeer, closerFD = ev.Peer, *ev.FD
		}
		if ev.Phase != "end" {
			continue
		}
		switch {
		case ev.Op == "listen" && listener == "":
			listener = fmt.Sprintf("%s:%d", ev.Peer, *ev.FD)
		case ev.Op == "accept" && ev.Ret != nil && accepted == "":
			accepted = fmt.Sprintf("%s:%d", ev.Peer, *ev.Ret)
		}
	}
	if listener == "" || accepted == "" || closerFD < 0 {
		t.Fatalf("the trace has no listen, accept or close: %q %q %d", listener, accepted, closerFD)
	}
	peer, fd, _ := strings.Cut(listener, ":")
	url := startWeb(t, "--replay", saved)
	ctx = openReplay(t, ctx, url, "", lines)
	sockets := func(state string) []string {
		return strings.Fields(evaluate[string](t, ctx, fmt.Sprintf(`document.querySelector('#tcp-states [data-state=%q]').dataset.sockets || ""`, state)))
	}
	lit, acceptedLit := false, false
	for i := 1; i <= lines; i++ {
		act(t, ctx, chromedp.KeyEvent(kb.ArrowRight))
		waitFor(t, ctx, fmt.Sprintf("event %d drawn", i), fmt.Sprintf(`document.body.dataset.events === "%d"`, i))
		if slices.Contains(sockets("ESTABLISHED"), listener) {
			t.Fatalf("after event %d the listening socket %s is marked ESTABLISHED", i, listener)
		}
		if head := evaluate[string](t, ctx, fmt.Sprintf(`[...document.querySelectorAll('#diagram text.state[data-peer=%q][data-fd=%q]')].map(e => e.textContent).join()`, peer, fd)); strings.Contains(head, "ESTABLISHED") {
			t.Fatalf("after event %d the server's header says %q for its listening socket", i, head)
		}
		lit = lit || slices.Contains(sockets("LISTEN"), listener)
		acceptedLit = acceptedLit || slices.Contains(sockets("ESTABLISHED"), accepted)
	}
	if !lit {
		t.Errorf("the listening socket %s was never marked LISTEN", listener)
	}
	if !acceptedLit {
		t.Errorf("the accepted socket %s was never marked ESTABLISHED", accepted)
	}
	// The socket that closed first, on the peer that closed it.
	if got := evaluate[string](t, ctx, fmt.Sprintf(`(document.querySelector('#tcp-sockets button[data-peer=%q][data-fd="%d"]') || {dataset: {}}).dataset.state || ""`, closerPeer, closerFD)); got != "TIME_WAIT" {
		t.Errorf("at the end %s's fd %d (the first to close) is in %q, want TIME_WAIT; TIME_WAIT marks %v", closerPeer, closerFD, got, sockets("TIME_WAIT"))
	}
	if got := evaluate[int](t, ctx, `document.querySelectorAll('#tcp-states g.tcp-edge.last').length`); got == 0 {
		t.Error("no transition is highlighted as the last")
	}
	// Follow the listener: only it is marked, in the state it ended in.
	press(t, ctx, fmt.Sprintf(`#tcp-sockets button[data-socket=%q]`, listener))
	waitFor(t, ctx, "the listener followed", fmt.Sprintf(`document.querySelector("#tcp-states").dataset.follow === %q`, listener))
	if got := evaluate[[]string](t, ctx, `[...document.querySelectorAll('#tcp-states g.tcp-state.current')].flatMap(g => g.dataset.sockets.split(" "))`); !slices.Equal(got, []string{listener}) {
		t.Errorf("following %s, the marked sockets are %v", listener, got)
	}
}

// TestBrowserChinese shows a finished basic run in Chinese. Where the
// machine has no CJK font (fc-list :lang=zh says none), the page says so
// in English and still draws the run; with -update (which needs the font:
// .ci/run installs it) the page is written to docs/web-basic-zh.png.
func TestBrowserChinese(t *testing.T) {
	ctx := browser(t)
	out, _ := exec.Command("fc-list", ":lang=zh").Output()
	font := len(bytes.TrimSpace(out)) > 0
	if !font && os.Getenv("CI") != "" {
		t.Fatal("no CJK font in CI: .ci/run installs fonts-noto-cjk")
	}
	saved, lines := savedRun(t, "basic")
	url := startWeb(t, "--replay", saved, "--lang=zh")
	ctx = openReplay(t, ctx, url, "#end", lines)
	waitFor(t, ctx, "the whole run in Chinese", fmt.Sprintf(`document.body.dataset.events === "%d" && document.body.dataset.lang === "zh" && document.querySelector("#diagram").textContent.includes("服务器")`, lines))
	if got := evaluate[[]int](t, ctx, drawnSteps); len(got) != 11 {
		t.Errorf("in Chinese the page shows steps %v, want 1 to 11", got)
	}
	cjk := evaluate[string](t, ctx, `document.body.dataset.cjk`)
	warned := evaluate[bool](t, ctx, `!document.querySelector("#font-warning").hidden && document.querySelector("#font-warning").textContent.includes("No Chinese font")`)
	switch {
	case font && (cjk != "yes" || warned):
		t.Errorf("the machine has a CJK font, the page says data-cjk=%q, warning shown %v", cjk, warned)
	case !font && (cjk != "no" || !warned):
		t.Errorf("the machine has no CJK font, the page says data-cjk=%q, warning shown %v", cjk, warned)
	}
	if *update {
		if !font {
			t.Fatal("-update: no CJK font here, the screenshot would show empty boxes (apt-get install fonts-noto-cjk)")
		}
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "web-basic-zh.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBrowserShowsTheRunsSpeed: a page reloaded while a run plays by
// itself shows the run's speed, not "by hand".
func TestBrowserShowsTheRunsSpeed(t *testing.T) {
	ctx := browser(t)
	url := startWeb(t, "basic", "--lang=en")
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the page to be ready", `document.body.dataset.phase === "idle" && !document.querySelector("#run").disabled`)
	act(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector("#speed"); s.value = "2000"; s.dispatchEvent(new Event("change")); })()`))
	press(t, ctx, "#run")
	waitFor(t, ctx, "the run", `["running", "waiting"].includes(document.body.dataset.phase)`)
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the reloaded page at the run's speed", `["running", "waiting"].includes(document.body.dataset.phase) && document.querySelector("#speed").value === "2000"`)
	// A change goes to the server, and back to every page.
	act(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector("#speed"); s.value = "250"; s.dispatchEvent(new Event("change")); })()`))
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the reloaded page at the new speed", `document.body.dataset.phase !== "loading" && document.querySelector("#speed").value === "250"`)
	press(t, ctx, "#stop")
	waitFor(t, ctx, "the run stopped", `document.body.dataset.phase === "done"`)
}

// TestBrowserWireWithoutCapability runs socklab web --wire without
// CAP_NET_RAW (withoutNetRaw, when the test runs as root): the page says there
// are no real packets and draws the calls' arrows instead.
func TestBrowserWireWithoutCapability(t *testing.T) {
	ctx := browser(t)
	cmd := withoutNetRaw(t, "web", "basic", "--wire", "--lang=en")
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("socklab web did not stop on SIGINT")
		}
	})
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == ""; time.Sleep(10 * time.Millisecond) {
		url = webURL.FindString(stdout.String())
		if url == "" && time.Now().After(deadline) {
			t.Fatalf("socklab web printed no address in 10s: stdout %q, stderr %q", stdout.String(), stderr.String())
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the page to be ready", `document.body.dataset.phase === "idle" && !document.querySelector("#run").disabled`)
	act(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector("#speed"); s.value = "250"; s.dispatchEvent(new Event("change")); })()`))
	press(t, ctx, "#run")
	waitFor(t, ctx, "the run to its end", `document.body.dataset.phase === "done"`)
	if !strings.Contains(stderr.String(), "CAP_NET_RAW") {
		t.Errorf("the terminal says nothing of CAP_NET_RAW: %q", stderr.String())
	}
	waitFor(t, ctx, "the page saying there are no real packets", `!document.querySelector("#notice").hidden && document.querySelector("#notice").textContent.includes("no real packets")`)
	if got := evaluate[string](t, ctx, `document.querySelector("#legend").textContent`); strings.Contains(got, "real packets") {
		t.Errorf("the legend says %q without a capture", got)
	}
	if got := evaluate[[]string](t, ctx, `[...new Set([...document.querySelectorAll("#diagram g.arrow")].map(a => a.dataset.kind))].sort()`); !slices.Equal(got, []string{"data", "fin"}) {
		t.Errorf("the arrows drawn are of kinds %v, want the calls' data and fin", got)
	}
}

// TestBrowserTraceWebStop stops, from the page of socklab trace --web, a
// Python server that listens for a minute: the page says how it ended,
// and draws the close of its listening socket (its own call, or the
// kernel's at its end).
func TestBrowserTraceWebStop(t *testing.T) {
	ctx := browser(t)
	needPython3(t)
	script := filepath.Join(t.TempDir(), "server.py")
	// SIGINT as a terminal's program has it (a test started in the
	// background inherits it ignored).
	if err := os.WriteFile(script, []byte("import signal, socket, time\nsignal.signal(signal.SIGINT, signal.default_int_handler)\ns = socket.socket()\ns.bind(('127.0.0.1', 0))\ns.listen()\ntime.sleep(60)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(socklabBinary(t), "trace", "--web", "--lang=en", "--server", "python3 "+script)
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("socklab trace --web did not stop on SIGINT")
		}
	})
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == ""; time.Sleep(10 * time.Millisecond) {
		url = webURL.FindString(stdout.String())
		if url == "" && time.Now().After(deadline) {
			t.Fatalf("socklab trace --web printed no address in 10s: stdout %q, stderr %q", stdout.String(), stderr.String())
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the page to be ready", `document.body.dataset.phase === "idle" && !document.querySelector("#run").disabled`)
	act(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector("#speed"); s.value = "250"; s.dispatchEvent(new Event("change")); })()`))
	press(t, ctx, "#run")
	waitFor(t, ctx, "the server listening", `!!document.querySelector('#diagram g.call[data-op="listen"][data-result="ok"]')`)
	fd := evaluate[string](t, ctx, `document.querySelector('#diagram g.call[data-op="listen"]').__call.end.fd + ""`)
	press(t, ctx, "#stop")
	waitFor(t, ctx, "the run stopped", `document.body.dataset.phase === "done"`)
	waitFor(t, ctx, "the page saying how the server ended", `!document.querySelector("#notice").hidden && document.querySelector("#notice").textContent.includes("server.py ended")`)
	waitFor(t, ctx, "the listening socket's close drawn", fmt.Sprintf(`[...document.querySelectorAll('#diagram g.call[data-op="close"]')].some(g => g.__call.end && g.__call.end.fd === %s)`, fd))
}
