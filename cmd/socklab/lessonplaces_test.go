package main

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/socklab/socklab/lessons"
	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/i18n"
)

// A lessonPlace is one of the places a lesson lives, as
// docs/adding-a-lesson.md lists them: where it is (what the page names),
// and how to tell that a lesson is there. missing returns "" when the
// lesson is in its place, else what is missing.
type lessonPlace struct {
	where   string
	missing func(t *testing.T, l lessons.Lesson) string
}

// repoRoot is the repository's root, from this package's directory.
var repoRoot = filepath.Join("..", "..")

// lessonPlaces are the places every lesson must be in (some only when the
// lesson needs them: an expectation, a carrier for its texts, a note under
// its traffic table).
var lessonPlaces = []lessonPlace{
	{"lessons/NAME.go", func(t *testing.T, l lessons.Lesson) string {
		if file, ok := declaredLessons(t)[l.Name]; !ok || file != l.Name+".go" {
			return fmt.Sprintf("no Lesson value named %q in lessons/%s.go (found in %q)", l.Name, l.Name, file)
		}
		return ""
	}},
	{"lessons/lessons.go", func(t *testing.T, l lessons.Lesson) string {
		if _, ok := lessons.Lookup(l.Name); !ok {
			return "not returned by lessons.All()"
		}
		return ""
	}},
	{"lesson.NAME", func(t *testing.T, l lessons.Lesson) string {
		return catalogueKey("lesson."+l.Name, true)
	}},
	{"lessons/expect.go", func(t *testing.T, l lessons.Lesson) string {
		switch {
		case l.Script == nil && l.Expect == nil:
			return ""
		case l.Expect == nil:
			return "a --step script (Script) but no Expectation to give it"
		case !slices.Equal(l.Script, l.Expect.Script()):
			return "a Script that is not its Expectation's (Script: x.Script())"
		}
		return ""
	}},
	{"lessons/lessons_test.go", func(t *testing.T, l lessons.Lesson) string {
		return rowIn(t, "lessons/lessons_test.go", "orderTests", "lesson", l.Name)
	}},
	{"lessons/options_test.go", func(t *testing.T, l lessons.Lesson) string {
		if !slices.Contains(l.Uses, "message") && !slices.Contains(l.Uses, "reply") {
			return ""
		}
		return rowIn(t, "lessons/options_test.go", "carriers", "", l.Name)
	}},
	{"wire.note.NAME", func(t *testing.T, l lessons.Lesson) string {
		return catalogueKey("wire.note."+l.Name, l.Traffic != nil)
	}},
	{"docs/lessons/NAME.md", func(t *testing.T, l lessons.Lesson) string {
		return fileHas(t, "docs/lessons/"+l.Name+".md", "(../zh/lessons/"+l.Name+".md)")
	}},
	{"docs/zh/lessons/NAME.md", func(t *testing.T, l lessons.Lesson) string {
		return fileHas(t, "docs/zh/lessons/"+l.Name+".md", "<!-- translated from ../../lessons/"+l.Name+".md: ")
	}},
	{"README.md", func(t *testing.T, l lessons.Lesson) string {
		return fileHas(t, "README.md", fmt.Sprintf("| [`%s`](docs/lessons/%[1]s.md) | %s |", l.Name, l.Summary))
	}},
	{"docs/README.md", func(t *testing.T, l lessons.Lesson) string {
		row := fmt.Sprintf("| [`%s`](lessons/%[1]s.md) | ", l.Name)
		var lack []string
		for _, index := range []string{"docs/README.md", "docs/zh/README.md"} {
			if m := fileHas(t, index, row); m != "" {
				lack = append(lack, m)
			}
		}
		return strings.Join(lack, "; ")
	}},
	{"cmd/socklab/wirepages_linux_test.go", func(t *testing.T, l lessons.Lesson) string {
		return rowIn(t, "cmd/socklab/wirepages_linux_test.go", "wireLessons", "", l.Name)
	}},
}

// TestEveryLessonHasItsPlaces: every lesson socklab has is in every place
// docs/adding-a-lesson.md lists, and every lesson a file of package
// lessons declares is one socklab has.
func TestEveryLessonHasItsPlaces(t *testing.T) {
	for _, l := range lessons.All() {
		for _, p := range lessonPlaces {
			if m := p.missing(t, l); m != "" {
				t.Errorf("lesson %s, place %s: %s (see docs/adding-a-lesson.md)", l.Name, p.where, m)
			}
		}
	}
	for name, file := range declaredLessons(t) {
		if _, ok := lessons.Lookup(name); !ok {
			t.Errorf("lessons/%s declares the lesson %s, but lessons.All() does not return it (lessons/lessons.go)", file, name)
		}
	}
}

// TestLessonPlacesAreTheDocumentedOnes: the page lists every place the
// test checks, and every check can fail: a lesson that is nowhere, and
// needs every place, is missing from each.
func TestLessonPlacesAreTheDocumentedOnes(t *testing.T) {
	page, err := os.ReadFile(filepath.Join(repoRoot, "docs", "adding-a-lesson.md"))
	if err != nil {
		t.Fatal(err)
	}
	nowhere := lessons.Lesson{
		Name:    "nowhere",
		Summary: "a lesson in no place",
		Run:     func(context.Context, *trace.Tracer, lessons.Options) error { return nil },
		Uses:    []string{"message", "reply"},
		Script:  []trace.Point{trace.BeginOf("server", trace.OpCreate)},
		Traffic: func([]trace.Event) (lessons.TrafficTable, error) { return lessons.TrafficTable{}, nil },
	}
	for _, p := range lessonPlaces {
		if !strings.Contains(string(page), "`"+p.where+"`") {
			t.Errorf("docs/adding-a-lesson.md does not name the place %s", p.where)
		}
		if p.missing(t, nowhere) == "" {
			t.Errorf("%s: a lesson that is nowhere is there", p.where)
		}
	}
}

// catalogueKey says which catalogues lack key, when want says the lesson
// needs it.
func catalogueKey(key string, want bool) string {
	if !want {
		return ""
	}
	var lack []string
	for _, lang := range i18n.Langs {
		if !lang.Has(key) {
			lack = append(lack, fmt.Sprintf("trace/i18n/%s.go", lang))
		}
	}
	if lack == nil {
		return ""
	}
	return fmt.Sprintf("no key %s in %s", key, strings.Join(lack, " and "))
}

// fileHas says what is missing when the file at path (from the
// repository's root) does not exist or does not contain text.
func fileHas(t *testing.T, path, text string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(path)))
	switch {
	case os.IsNotExist(err):
		return path + " does not exist"
	case err != nil:
		t.Fatal(err)
	case !strings.Contains(string(b), text):
		return fmt.Sprintf("%s does not contain %q", path, text)
	}
	return ""
}

// rowIn says what is missing when the literal of the package-level
// variable table, in the Go file at path, has no row for the lesson: a
// key of a map literal (field ""), or the field of a struct literal in a
// slice literal.
func rowIn(t *testing.T, path, table, field, lesson string) string {
	t.Helper()
	if slices.Contains(literalNames(t, path, table, field), lesson) {
		return ""
	}
	return fmt.Sprintf("%s has no row for it in %s", path, table)
}

// literalNames reads, from the Go file at path, the names the literal of
// the package-level variable table gives its rows (see rowIn). A table
// that is not one literal there fails the test: rows added elsewhere
// could not be seen.
func literalNames(t *testing.T, path, table, field string) []string {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), filepath.Join(repoRoot, filepath.FromSlash(path)), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var lit *ast.CompositeLit
	for _, d := range file.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.VAR {
			continue
		}
		for _, s := range g.Specs {
			v := s.(*ast.ValueSpec)
			if len(v.Names) == 1 && v.Names[0].Name == table && len(v.Values) == 1 {
				lit, _ = v.Values[0].(*ast.CompositeLit)
			}
		}
	}
	if lit == nil {
		t.Fatalf("%s: no variable %s whose value is one literal", path, table)
	}
	var names []string
	for _, e := range lit.Elts {
		if kv, ok := e.(*ast.KeyValueExpr); ok && field == "" {
			names = append(names, stringLit(kv.Key))
			continue
		}
		row, ok := e.(*ast.CompositeLit)
		if !ok {
			continue
		}
		for _, f := range row.Elts {
			if kv, ok := f.(*ast.KeyValueExpr); ok {
				if key, ok := kv.Key.(*ast.Ident); ok && key.Name == field {
					names = append(names, stringLit(kv.Value))
				}
			}
		}
	}
	return names
}

// stringLit is the value of a string literal, or "".
func stringLit(e ast.Expr) string {
	if b, ok := e.(*ast.BasicLit); ok && b.Kind == token.STRING {
		s, _ := strconv.Unquote(b.Value)
		return s
	}
	return ""
}

// declaredLessons maps the Name of every Lesson literal in package
// lessons (its files less the tests) to the file that declares it.
func declaredLessons(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "lessons", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]string{}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			if typ, ok := lit.Type.(*ast.Ident); !ok || typ.Name != "Lesson" {
				return true
			}
			for _, f := range lit.Elts {
				if kv, ok := f.(*ast.KeyValueExpr); ok {
					if key, ok := kv.Key.(*ast.Ident); ok && key.Name == "Name" {
						declared[stringLit(kv.Value)] = filepath.Base(path)
					}
				}
			}
			return true
		})
	}
	return declared
}
