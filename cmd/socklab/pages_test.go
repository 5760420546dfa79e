//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/socklab/socklab/internal/report"
	"github.com/socklab/socklab/lessons"
	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/i18n"
)

var update = flag.Bool("update", false, "rewrite the generated blocks of docs/lessons/*.md from a real run")

// TestLessonPages keeps docs/lessons/NAME.md and its Chinese version,
// docs/zh/lessons/NAME.md, honest: each page's generated blocks (the
// lesson's own words from its source, its code step by step, a real
// transcript, a sequence diagram) must match what the lesson does now.
// With -update, they are regenerated from a real run; the rest of each page
// (exercises, and the Chinese pages' prose) is written by hand and kept.
//
// The two peers run at the same time, so the interleaving of their lines
// varies from run to run: a page matches when, after times, ports,
// descriptors and numbers are normalised, each peer's lines are the same
// sequence. A lesson that is allowed to vary (stream's part 2 may take one
// read or two) gets three runs to match.
func TestLessonPages(t *testing.T) {
	for _, pl := range pageLangs {
		for _, l := range lessons.All() {
			t.Run(pl.prefix+l.Name, func(t *testing.T) { checkLessonPage(t, l, pl) })
		}
	}
}

// A pageLang is one language's set of lesson pages.
type pageLang struct {
	lang   i18n.Lang
	prefix string // of the subtests' names
	dir    string // the pages' directory, from the repository's root
	root   string // the repository's root, from a page
	// The headings of the literate block's groups of lines that no step
	// of the lesson's own code made: by a shared function (with its name
	// and file), and by the library's own goroutines.
	shared, elsewhere string
}

var pageLangs = []pageLang{
	{lang: i18n.EN, dir: "docs/lessons", root: "../../",
		shared: "#### The calls made by `%s` ([lessons/%s](%[3]slessons/%[2]s#L%[4]d))", elsewhere: "#### The calls the library's own goroutines made"},
	// The Chinese pages' transcripts explain each kind of line once, as a
	// class would run them (--lang=zh --explain).
	{lang: i18n.ZH, prefix: "zh/", dir: "docs/zh/lessons", root: "../../../",
		shared: "#### 由共享代码 `%s` 发出的调用（[lessons/%s](%[3]slessons/%[2]s#L%[4]d)）", elsewhere: "#### 由库自己的 goroutine 发出的调用"},
}

// path is where lesson l's page is, from this package's directory.
func (pl pageLang) path(l lessons.Lesson) string {
	return filepath.Join("..", "..", filepath.FromSlash(pl.dir), l.Name+".md")
}

func checkLessonPage(t *testing.T, l lessons.Lesson, pl pageLang) {
	path := pl.path(l)
	page, err := os.ReadFile(path)
	switch {
	case os.IsNotExist(err) && *update && pl.lang == i18n.EN:
		page = []byte(newPage(l))
	case os.IsNotExist(err) && *update:
		page = []byte(newTranslatedPage(t, l))
	case err != nil:
		t.Fatalf("%v (run go test ./cmd/socklab -run TestLessonPages -update)", err)
	}
	var source string
	if pl.lang == i18n.EN {
		source = lessonSource(t, l)
	}
	if *update {
		transcript, diagram, wire, sites := record(t, l, pl.lang)
		out := string(page)
		if pl.lang == i18n.EN {
			out = replaceBlock(out, "source", source)
		}
		out = insertLiterate(out, renderLiterate(literate(t, l, sites), true, pl))
		out = replaceBlock(out, "transcript", "```text\n"+transcript+"```\n")
		out = replaceBlock(out, "diagram", "```mermaid\n"+diagram+"```\n")
		if wire != "" {
			out = replaceBlock(out, "wire", "```text\n"+wire+"```\n")
		}
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got := block(string(page), "source"); pl.lang == i18n.EN && got != source {
		t.Errorf("%s: the lesson's words changed; run with -update\ngot:\n%s\nwant:\n%s", path, got, source)
	}
	oldText := strings.TrimSuffix(strings.TrimPrefix(block(string(page), "transcript"), "```text\n"), "```\n")
	oldDiagram := strings.TrimSuffix(strings.TrimPrefix(block(string(page), "diagram"), "```mermaid\n"), "```\n")
	oldWire := strings.TrimSuffix(strings.TrimPrefix(block(string(page), "wire"), "```text\n"), "```\n")
	oldLiterate := block(string(page), "literate")
	var lastDiff string
	for try := range 3 {
		transcript, diagram, wire, sites := record(t, l, pl.lang)
		textSplit := func(string) func(string) (string, string) { return textPeer }
		segs := literate(t, l, sites)
		if try == 0 && withoutTraces(oldLiterate) != renderLiterate(segs, false, pl) {
			t.Errorf("%s: the lesson's code or comments changed; run go test ./cmd/socklab -run TestLessonPages -update", path)
			return
		}
		d1 := samePerPeer(oldText, transcript, textSplit, unordered(l)) + sameLiterate(oldLiterate, segs, unordered(l))
		d2 := samePerPeer(oldDiagram, diagram, diagramPeer, unordered(l))
		d3 := ""
		if norm := number.ReplaceAllString(wire, "#"); norm != number.ReplaceAllString(oldWire, "#") {
			d3 = fmt.Sprintf("wire table:\n  page: %q\n  now:  %q\n", oldWire, wire)
		}
		if d1 == "" && d2 == "" && d3 == "" {
			return
		}
		lastDiff = d1 + d2 + d3
	}
	t.Errorf("%s no longer shows what the lesson does; run go test ./cmd/socklab -run TestLessonPages -update\n%s", path, lastDiff)
}

// record runs the lesson once into a text transcript, a diagram and, for
// a lesson that measures it, the table of what crossed the wire, in lang;
// a transcript in Chinese explains each kind of line once.
func record(t *testing.T, l lessons.Lesson, lang i18n.Lang) (transcript, diagram, wire string, sites *siteSink) {
	t.Helper()
	var text, mermaid, table bytes.Buffer
	rec := trace.Recorder{DataLimit: -1} // the wire table counts every byte
	opts := trace.TextOptions{Lang: lang, Explain: lang != i18n.EN}
	sites = newSiteSink(opts)
	tr := trace.New(trace.Multi(trace.NewTextSink(&text, &opts), trace.NewMermaidSink(&mermaid, &trace.MermaidOptions{Lang: lang}), &rec, sites))
	if err := l.Run(context.Background(), tr, lessons.Options{}); err != nil {
		if errors.Is(err, lessons.ErrNoTimeWait) {
			t.Skip(err) // the kernel's, not the lesson's
		}
		t.Fatalf("run %s: %v", l.Name, err)
	}
	if l.Traffic != nil {
		measured, err := l.Traffic(rec.Events())
		if err != nil {
			t.Fatalf("%s: %v", l.Name, err)
		}
		if err := report.Traffic(&table, lang, l.Name, measured); err != nil {
			t.Fatal(err)
		}
	}
	return text.String(), mermaid.String(), strings.TrimPrefix(table.String(), "\n"), sites
}

// The markers around a generated block.
func markers(name string) (begin, end string) {
	return "<!-- generated: " + name + " -->\n", "<!-- end generated: " + name + " -->\n"
}

func block(page, name string) string {
	begin, end := markers(name)
	i, j := strings.Index(page, begin), strings.Index(page, end)
	if i < 0 || j < i {
		return ""
	}
	return page[i+len(begin) : j]
}

func replaceBlock(page, name, content string) string {
	begin, end := markers(name)
	i, j := strings.Index(page, begin), strings.Index(page, end)
	if i < 0 || j < i {
		return page + "\n" + begin + content + end
	}
	return page[:i+len(begin)] + content + page[j:]
}

var (
	// readLine matches a read's line in a transcript, and the arrow or
	// note of a read in a diagram (bytes and end of file arrive by reads).
	readLine   = regexp.MustCompile(`\] (?:read|读) |->>.*: (# bytes|# 字节|FIN)`)
	quotedData = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	millis     = regexp.MustCompile(`^ *[0-9.]+ms  `)
	number     = regexp.MustCompile(`[0-9]+`)
	elapsed    = regexp.MustCompile(`  (?:\(returned after [^)]*\)|（[^）]*后返回）)`)
)

// textPeer returns a transcript line's peer and the line normalised.
func textPeer(line string) (string, string) {
	line = elapsed.ReplaceAllString(millis.ReplaceAllString(line, ""), "")
	fields := strings.Fields(line)
	if len(fields) == 0 || strings.HasPrefix(strings.TrimSpace(line), "↳") {
		return "", ""
	}
	return fields[0], number.ReplaceAllString(line, "#")
}

var (
	mermaidParticipant = regexp.MustCompile(`^    participant (P\d+) as (.+)$`)
	mermaidLine        = regexp.MustCompile(`^    (?:Note over (P\d+)|(P\d+)->>(P\d+): (.*))`)
)

// diagramPeer returns a diagram line's peer and the line normalised. The
// peer is the one whose call made the line: the note's, the client's for a
// handshake (its connect returned), the reader's for bytes and end of
// file. Participants are named by peer, as their ids depend on the order
// in which the peers first appeared.
func diagramPeer(diagram string) func(string) (string, string) {
	names := map[string]string{}
	for _, line := range strings.Split(diagram, "\n") {
		if m := mermaidParticipant.FindStringSubmatch(line); m != nil {
			names[m[1]] = m[2]
		}
	}
	return func(line string) (string, string) {
		m := mermaidLine.FindStringSubmatch(line)
		if m == nil {
			return "", ""
		}
		id := m[1]
		switch {
		case m[1] != "":
		case slices.ContainsFunc(pageLangs, func(pl pageLang) bool { return m[4] == pl.lang.T("mermaid.handshake") }):
			id = m[2]
		default:
			id = m[3]
		}
		return names[id], number.ReplaceAllString(line, "#")
	}
}

// unordered reports whether l's pages are compared as samePerPeer's
// unordered says: the lessons on non-blocking sockets that run libraries
// (http, websocket), and epoll, whose server serves whichever client is
// ready first (how many epoll_wait calls it makes, what each finds, and
// the order of its calls are timing's; the lesson's own tests check what
// it read and wrote, TestEpollServesEveryClient).
func unordered(l lessons.Lesson) bool { return l.Traffic != nil || l.Name == "epoll" }

// samePerPeer compares two outputs peer by peer; it returns "" when they
// match, else what differs. splitter gives, for one output, the function
// that tells a line's peer and its normalised form.
//
// With unordered (see unordered), a peer's lines are compared as a set,
// leaving out reads, epoll waits and calls that found nothing ready: their libraries use a connection from
// two goroutines, retry on EAGAIN and read what arrives in as many reads
// as it takes, so only those lines vary from run to run (the lessons' own
// tests check what the reads got, byte for byte).
func samePerPeer(old, fresh string, splitter func(string) func(string) (string, string), unordered bool) string {
	group := func(s string) map[string][]string {
		g := map[string][]string{}
		split := splitter(s)
		for _, line := range strings.Split(s, "\n") {
			peer, norm := split(line)
			if peer == "" || unordered && (strings.Contains(norm, "EAGAIN") || readLine.MatchString(norm) || strings.Contains(norm, "epoll_pwait")) {
				continue
			}
			if unordered {
				// A client's WebSocket frames are masked with a random key.
				norm = quotedData.ReplaceAllString(norm, `"…"`)
			}
			g[peer] = append(g[peer], norm)
		}
		if unordered {
			for _, lines := range g {
				slices.Sort(lines)
			}
		}
		return g
	}
	a, b := group(old), group(fresh)
	var diff strings.Builder
	for peer := range b {
		if !slices.Equal(a[peer], b[peer]) {
			fmt.Fprintf(&diff, "%s:\n  page: %q\n  now:  %q\n", peer, a[peer], b[peer])
		}
	}
	for peer := range a {
		if _, ok := b[peer]; !ok {
			fmt.Fprintf(&diff, "%s: on the page, not in a run\n", peer)
		}
	}
	return diff.String()
}

// lessonSource returns the doc comment of the lesson's Run function, as a
// quote, and where to read the code.
func lessonSource(t *testing.T, l lessons.Lesson) string {
	t.Helper()
	full := runtime.FuncForPC(reflect.ValueOf(l.Run).Pointer()).Name()
	name := full[strings.LastIndex(full, ".")+1:]
	fset := token.NewFileSet()
	files, _ := filepath.Glob(filepath.Join("..", "..", "lessons", "*.go"))
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Name.Name != name || fn.Doc == nil {
				continue
			}
			var quote strings.Builder
			for _, line := range strings.Split(strings.TrimSpace(fn.Doc.Text()), "\n") {
				quote.WriteString(strings.TrimRight("> "+line, " ") + "\n")
			}
			rel := filepath.ToSlash(filepath.Join("..", "..", "lessons", filepath.Base(f)))
			return quote.String() + fmt.Sprintf("\nThe code: [lessons/%s](%s), function `%s`.\n", filepath.Base(f), rel, name)
		}
	}
	t.Fatalf("no doc comment for %s", name)
	return ""
}

// newPage is the skeleton of a lesson's page; the generated blocks are
// filled by -update, the exercises written by hand.
func newPage(l lessons.Lesson) string {
	begin := func(n string) string { b, e := markers(n); return b + e }
	return fmt.Sprintf(`# %s

[中文](../zh/lessons/%[1]s.md)

%s.

Run it: `+"`go run ./cmd/socklab run %s`"+` — in class, add `+"`--step --explain`"+`; `+"`--format=json`"+` for the
[JSON trace](../trace-format.md), `+"`--format=mermaid`"+` for the diagram below.

## What the lesson says

%s
## A real run

The transcript and the diagram below come from a real run of the lesson (without the kernel's view,
which `+"`socklab run`"+` adds); a test fails when they no longer match what the lesson does.

%s
## Sequence diagram

%s
## Exercises

`, l.Name, strings.ToUpper(l.Summary[:1])+l.Summary[1:], l.Name, begin("source"), begin("transcript"), begin("diagram"))
}

// TestStepsPages keeps the step tables of docs/steps.md and
// docs/zh/steps.md equal to what socklab knows (trace.Steps and the
// catalogue); -update rewrites them.
func TestStepsPages(t *testing.T) {
	for _, tt := range []struct {
		lang i18n.Lang
		path string
	}{{i18n.EN, "../../docs/steps.md"}, {i18n.ZH, "../../docs/zh/steps.md"}} {
		page, err := os.ReadFile(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		table := stepsTable(tt.lang)
		if *update {
			if err := os.WriteFile(tt.path, []byte(replaceBlock(string(page), "steps", table)), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got := block(string(page), "steps"); got != table {
			t.Errorf("%s: the step table is not what socklab knows; run go test ./cmd/socklab -run TestStepsPages -update", tt.path)
		}
	}
}

// stepsTable renders the 11 steps as a Markdown table in l.
func stepsTable(l i18n.Lang) string {
	cell := func(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
	var b strings.Builder
	fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | man |\n|---|---|---|---|---|---|---|---|\n",
		l.T("steps.col.num"), l.T("steps.col.peer"), l.T("steps.col.call"), l.T("steps.col.what"),
		l.T("steps.col.py"), l.T("steps.col.go"), l.T("steps.col.gonet"))
	for _, s := range trace.Steps {
		n := fmt.Sprint(s.Num)
		peer := l.T("peer.both")
		if s.Role != "" {
			peer = l.T("peer." + string(s.Role))
		}
		fmt.Fprintf(&b, "| %s | %s | `%s` | %s | `%s` | `%s` | `%s` | %s |\n", n, peer, l.T("step."+n+".call"),
			cell(l.T("step."+n+".what")), cell(s.Python), cell(s.Go), cell(s.GoNet), s.Man)
	}
	return b.String()
}

// transcriptBlock finds `<!-- transcript: socklab ARGS -->` … `<!-- end
// transcript -->` blocks: the command line and the fenced output.
var transcriptBlock = regexp.MustCompile("(?s)<!-- transcript: socklab ([^>]*?) -->\n```[a-z]*\n(.*?)```\n<!-- end transcript -->")

// TestReadmeTranscripts keeps the README's transcripts real: each is what
// its command printed, and a fresh run must show each peer doing the same
// (the kernel's states and the interleaving may vary between runs, so
// they are left out of the comparison). -update reruns the commands.
func TestReadmeTranscripts(t *testing.T) {
	path := "../../README.md"
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blocks := transcriptBlock.FindAllStringSubmatchIndex(string(readme), -1)
	if len(blocks) == 0 {
		t.Fatal("README.md has no transcript blocks")
	}
	out := string(readme)
	for i := len(blocks) - 1; i >= 0; i-- { // from the end, so offsets stay right
		b := blocks[i]
		args := strings.Fields(string(readme[b[2]:b[3]]))
		old := string(readme[b[4]:b[5]])
		fresh := func() string {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), args, env{stdout: &stdout, stderr: &stderr}); code != 0 {
				t.Fatalf("socklab %v: exit %d: %s", args, code, stderr.String())
			}
			return stdout.String()
		}
		if *update {
			out = out[:b[4]] + fresh() + out[b[5]:]
			continue
		}
		columns := slices.Contains(args, "--layout=columns")
		var diff string
		for range 3 {
			if columns {
				diff = samePerPeer(old, fresh(), func(string) func(string) (string, string) { return columnPeer }, false)
			} else {
				diff = samePerPeer(old, fresh(), func(string) func(string) (string, string) { return stateless }, false)
			}
			if diff == "" {
				break
			}
		}
		if diff != "" {
			t.Errorf("README.md: socklab %v no longer prints this; run go test ./cmd/socklab -run TestReadmeTranscripts -update\n%s", args, diff)
		}
	}
	if *update {
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

var kernelNote = regexp.MustCompile(`  (?:kernel: |内核：).*?(  \(|  （|$)`)

// queueNote matches what a Begin line says of the kernel's queues ("none
// queued: waits for a client", "1 connection queued: returns at once"),
// in every language: whether the client's connect came first is timing,
// and so is whether the peer's FIN came before a read began.
var queueNote = func() *regexp.Regexp {
	var alts []string
	for _, pl := range pageLangs {
		for _, key := range []string{"queue.accept.none", "queue.accept.one", "queue.accept.some", "queue.read.none",
			"queue.read.some", "queue.recvfrom.none", "queue.recvfrom.some",
			// No claim, when the kernel did not say (a read whose peer
			// has closed, which returns at once).
			"wait.accept", "wait.read", "wait.recvfrom"} {
			alts = append(alts, strings.ReplaceAll(regexp.QuoteMeta(pl.lang.T(key)), "%d", "[0-9]+"))
		}
	}
	return regexp.MustCompile("  (?:" + strings.Join(alts, "|") + ")")
}()

// stateless is textPeer without the kernel's states and queues, which
// depend on timing.
func stateless(line string) (string, string) {
	return textPeer(queueNote.ReplaceAllString(kernelNote.ReplaceAllString(line, "$1"), "  (queue)"))
}

var stepCall = regexp.MustCompile(`\[[ 0-9]+\] [a-z0-9]+\(|^ +[a-z]+\(`)

// columnPeer sorts a two-column line to its side, keeping only its step
// and call name: the cells are cut at the column's width, which varies
// with the numbers in them.
func columnPeer(line string) (string, string) {
	if strings.Contains(line, "◀") || strings.Contains(line, "▶") {
		return "arrows", number.ReplaceAllString(strings.Trim(line, " ─◀▶"), "#")
	}
	side := "server"
	if strings.HasPrefix(line, strings.Repeat(" ", 40)) {
		side = "client"
	}
	call := stepCall.FindString(strings.TrimSpace(line))
	if call == "" {
		return "", ""
	}
	return side, call
}
