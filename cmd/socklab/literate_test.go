//go:build linux

package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/socklab/socklab/lessons"
	"github.com/socklab/socklab/trace"
)

// A lesson's page shows it as Go by Example shows a program: segment by
// segment, the sentences above a step, the code of that step, and the
// lines that code printed in a real run. The segments come from the
// lesson's source, read with go/ast; each line is joined to the segment
// whose code made its call, found in the run itself: the sink below looks,
// as each event is handled (on the goroutine that made the call:
// Tracer.emit is synchronous), for the innermost frame in a lesson's file.
// So a step's line (its step number and op) sits under the code that made
// it, with no table to keep by hand.

// A segment is one step of a lesson's code: the comment above it and the
// lines up to the next such comment, or the end of the function.
type segment struct {
	file       string // base name, e.g. "basic.go"
	function   string // "Server", or "(*httpServer).finish"
	first      bool   // the function's first segment
	start, end int    // the lines it covers, with its comment
	prose      string // the comment's text, "" if the code has none
	code       string // the code, as in the file, less its indentation
	trace      string // the lines the run printed for it
	callsOnly  bool   // a group of lines made by shared code, shown without it
}

// lessonFile is where a lesson's code lives: a file named after it.
func lessonFile(name string) string {
	return filepath.Join("..", "..", "lessons", name+".go")
}

// segmentsOf reads a lesson file's functions as segments, in file order.
func segmentsOf(t *testing.T, path string) []segment {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, path, src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	line := func(p token.Pos) int { return fset.Position(p).Line }
	var segs []segment
	for _, d := range file.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		// The comments that stand on lines of their own inside the body
		// start segments; a comment after code on its line belongs to
		// that code.
		var starts []*ast.CommentGroup
		for _, c := range file.Comments {
			at := fset.Position(c.Pos())
			if c.Pos() > fn.Body.Lbrace && c.End() < fn.Body.Rbrace && strings.TrimSpace(lines[at.Line-1][:at.Column-1]) == "" {
				starts = append(starts, c)
			}
		}
		name := fn.Name.Name
		if fn.Recv != nil {
			recv := fn.Recv.List[0].Type
			name = "(" + string(src[fset.Position(recv.Pos()).Offset:fset.Position(recv.End()).Offset]) + ")." + name
		}
		begin := line(fn.Pos())
		if fn.Doc != nil {
			begin = line(fn.Doc.Pos())
		}
		// The function's doc comment and signature make its first segment,
		// running to the first comment in its body.
		cuts := []int{begin}
		groups := []*ast.CommentGroup{fn.Doc}
		for _, c := range starts {
			cuts = append(cuts, line(c.Pos()))
			groups = append(groups, c)
		}
		cuts = append(cuts, line(fn.End())+1)
		for i := range groups {
			s := segment{file: filepath.Base(path), function: name, first: i == 0, start: cuts[i], end: cuts[i+1] - 1}
			codeFrom := s.start
			if g := groups[i]; g != nil {
				s.prose = strings.Join(strings.Fields(g.Text()), " ")
				codeFrom = line(g.End()) + 1
			}
			s.code = shownCode(lines[codeFrom-1 : s.end])
			segs = append(segs, s)
		}
	}
	return segs
}

// shownCode is the lines as the file has them, tabs as four spaces, less
// blank lines at the end. A step keeps its indentation, as Go by Example's
// segments do: it shows where in its function the step sits.
func shownCode(lines []string) string {
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(strings.ReplaceAll(l, "\t", "    ") + "\n")
	}
	return b.String()
}

// A callSite is where a traced call was made: the line in a lesson's file,
// or else the shared function of the package (oneConnection, clientPeer…)
// that the peer's goroutine was running.
type callSite struct {
	file   string // base name; "" when no code of the package made the call
	line   int    // in a lesson's file
	shared string // the shared function, when no lesson file's code is on the stack
}

// siteSink prints each event as the text sink does, and keeps, for each
// line printed, where in the lessons' files the call was made.
type siteSink struct {
	mu    sync.Mutex
	text  *trace.TextSink
	buf   bytes.Buffer
	files map[string]bool // the lesson files, by base name
	lines []sitedLine
}

type sitedLine struct {
	site callSite
	text string
}

// closureSuffix is what the runtime adds to a function literal's name.
var closureSuffix = regexp.MustCompile(`(\.func[0-9]+)+$`)

// siteOf finds where in package lessons the call on this stack was made.
func (s *siteSink) siteOf(frames *runtime.Frames) callSite {
	const pkg = "github.com/socklab/socklab/lessons."
	var shared []runtime.Frame // the package's frames, innermost first
	for {
		f, more := frames.Next()
		if strings.HasPrefix(f.Function, pkg) && !strings.HasSuffix(f.File, "_test.go") {
			if base := filepath.Base(f.File); s.files[base] {
				return callSite{file: base, line: f.Line}
			}
			shared = append(shared, f)
		}
		if !more {
			break
		}
	}
	// No lesson file's code is on the stack: the goroutine runs shared
	// code. Its outermost function is the one that tells what it does
	// (oneConnection's server, not the bind it makes), unless that is
	// runPeers, which only starts the peers.
	for i := len(shared) - 1; i >= 0; i-- {
		// The runtime names a closure after the functions it was inlined
		// into (oneConnection.clientPeer.func1): the last is its own.
		name := closureSuffix.ReplaceAllString(strings.TrimPrefix(shared[i].Function, pkg), "")
		name = name[strings.LastIndex(name, ".")+1:]
		if name != "runPeers" {
			return callSite{file: filepath.Base(shared[i].File), shared: name}
		}
	}
	return callSite{}
}

func newSiteSink(opts trace.TextOptions) *siteSink {
	s := &siteSink{files: map[string]bool{}}
	s.text = trace.NewTextSink(&s.buf, &opts)
	for _, l := range lessons.All() {
		s.files[l.Name+".go"] = true
	}
	return s
}

func (s *siteSink) Handle(e trace.Event) error {
	pcs := make([]uintptr, 64)
	site := s.siteOf(runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)]))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Reset()
	if err := s.text.Handle(e); err != nil {
		return err
	}
	for _, l := range strings.SplitAfter(s.buf.String(), "\n") {
		if l != "" {
			s.lines = append(s.lines, sitedLine{site, l})
		}
	}
	return nil
}

// literate returns the lesson's segments with the lines the run printed
// joined to them: its own file's, then those of the other lesson files
// whose code it ran (ipv6 runs basic's server and client). Lines made by
// shared code that no lesson file's code was running (oneConnection's
// peers make the first steps for reset) come next, one group per shared
// function, with its doc comment; last, lines that no code of the
// package made (net/http's own goroutines).
func literate(t *testing.T, l lessons.Lesson, sites *siteSink) []segment {
	t.Helper()
	files := []string{l.Name + ".go"}
	var shared []callSite
	for _, sl := range sites.lines {
		switch {
		case sl.site.shared != "":
			if !slices.Contains(shared, sl.site) {
				shared = append(shared, sl.site)
			}
		case sl.site.file != "" && !slices.Contains(files, sl.site.file):
			files = append(files, sl.site.file)
		}
	}
	var segs []segment
	for _, f := range files {
		segs = append(segs, segmentsOf(t, filepath.Join("..", "..", "lessons", f))...)
	}
	for _, c := range shared {
		segs = append(segs, sharedSegment(t, c))
	}
	var elsewhere strings.Builder
	for _, sl := range sites.lines {
		i := slices.IndexFunc(segs, func(s segment) bool {
			if sl.site.shared != "" {
				return s.callsOnly && s.file == sl.site.file && s.function == sl.site.shared
			}
			return !s.callsOnly && s.file == sl.site.file && s.start <= sl.site.line && sl.site.line <= s.end
		})
		if i < 0 {
			elsewhere.WriteString(sl.text)
			continue
		}
		segs[i].trace += sl.text
	}
	if elsewhere.Len() > 0 {
		segs = append(segs, segment{function: elsewhereFunction, first: true, callsOnly: true, trace: elsewhere.String()})
	}
	return segs
}

// sharedSegment is the group of lines made by a shared function: its
// name, where it is, and its doc comment.
func sharedSegment(t *testing.T, c callSite) segment {
	t.Helper()
	path := filepath.Join("..", "..", "lessons", c.file)
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	s := segment{file: c.file, function: c.shared, first: true, callsOnly: true}
	for _, d := range file.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Name.Name == c.shared {
			s.start = fset.Position(fn.Pos()).Line
			if fn.Doc != nil {
				s.prose = strings.Join(strings.Fields(fn.Doc.Text()), " ")
			}
		}
	}
	return s
}

// elsewhereFunction heads the lines made outside the lessons' code.
const elsewhereFunction = "(the library's own goroutines)"

// renderLiterate writes the segments as the page's literate block; with
// lines false, only what the source alone decides: the lesson's code and
// comments, without the run's lines and the groups of lines made elsewhere
// (which of those a run shows may vary, for http and websocket).
//
// The headings, and the links from the page to the code, are pl's.
func renderLiterate(segs []segment, lines bool, pl pageLang) string {
	var b strings.Builder
	for _, s := range segs {
		if s.callsOnly && !lines {
			continue
		}
		switch {
		case s.function == elsewhereFunction:
			b.WriteString(pl.elsewhere + "\n\n")
		case s.callsOnly:
			fmt.Fprintf(&b, pl.shared+"\n\n", s.function, s.file, pl.root, s.start)
		case s.first:
			fmt.Fprintf(&b, "#### `%s` ([lessons/%s](%[3]slessons/%[2]s#L%[4]d))\n\n", s.function, s.file, pl.root, s.start)
		}
		if s.prose != "" {
			b.WriteString(s.prose + "\n\n")
		}
		if s.code != "" {
			b.WriteString("```go\n" + s.code + "```\n\n")
		}
		if lines && s.trace != "" {
			b.WriteString("```text\n" + s.trace + "```\n\n")
		}
	}
	return b.String()
}

// groupHeading is how the heading of a group of lines that no step of the
// lesson's own code made begins, in each language (see pageLangs).
const groupHeading = "#### (?:The calls|由)[^\n]*\n\n"

// literateUnit finds, in a rendered literate block, each part that may
// have lines under it (a step's code, a group's heading and prose), and
// those lines.
var literateUnit = regexp.MustCompile("(?s)(```go\n.*?```\n\n|" + groupHeading + "(?:[^`#\n][^\n]*\n\n)?)(?:```text\n(.*?)```\n)?")

// literateTraces returns, for each such part of a rendered literate
// block, the run's lines under it.
func literateTraces(block string) []string {
	var traces []string
	var elsewhere string
	for _, m := range literateUnit.FindAllStringSubmatch(block, -1) {
		if strings.HasPrefix(m[1], "#### ") {
			elsewhere += m[2]
			continue
		}
		traces = append(traces, m[2])
	}
	return append(traces, elsewhere)
}

// literateHeading opens a page's literate section, before its real run.
const literateHeading = "## The code, step by step\n"

// insertLiterate puts the literate block in page: where it was, else
// under its heading, before the page's real run.
func insertLiterate(page, content string) string {
	if begin, _ := markers("literate"); strings.Contains(page, begin) {
		return replaceBlock(page, "literate", content)
	}
	begin, end := markers("literate")
	section := literateHeading + "\nEach step of the lesson's code, with the sentences above it in the source and the lines it\n" +
		"printed in a real run (joined by where each call was made; times, ports and descriptors vary between\n" +
		"runs). A test fails when the code, its comments or what it prints change.\n\n" + begin + content + end + "\n"
	at := strings.Index(page, "## A real run")
	if at < 0 {
		return page + "\n" + section
	}
	return page[:at] + section + page[at:]
}

// tracesInBlock matches the run's lines in a literate block, and the
// groups of lines made elsewhere.
var tracesInBlock = regexp.MustCompile("(?s)(?:" + groupHeading + "(?:[^`#\n][^\n]*\n\n)?)?```text\n.*?```\n\n")

// withoutTraces is a literate block less the run's lines: what the source
// alone decides.
func withoutTraces(block string) string { return tracesInBlock.ReplaceAllString(block, "") }

// sameLiterate compares a page's literate block with a run's segments,
// segment by segment and peer by peer (see samePerPeer); "" when they match.
//
// The groups of lines made elsewhere are compared as one: which shared
// function's goroutine makes a call may vary (net/http's).
func sameLiterate(old string, segs []segment, unordered bool) string {
	page := literateTraces(old)
	var fresh []string
	var elsewhere string
	for _, s := range segs {
		switch {
		case s.callsOnly:
			elsewhere += s.trace
		case s.code != "":
			fresh = append(fresh, s.trace)
		}
	}
	fresh = append(fresh, elsewhere)
	if len(page) != len(fresh) {
		return fmt.Sprintf("the code, step by step: %d segments on the page, %d in a run\n", len(page), len(fresh))
	}
	var diff strings.Builder
	textSplit := func(string) func(string) (string, string) { return textPeer }
	for i := range page {
		if d := samePerPeer(page[i], fresh[i], textSplit, unordered); d != "" {
			fmt.Fprintf(&diff, "the code, step by step, segment %d:\n%s", i+1, d)
		}
	}
	return diff.String()
}
