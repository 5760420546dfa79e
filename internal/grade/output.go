package grade

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/socklab/socklab/internal/report"
	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/i18n"
)

// WriteTable writes the class table: one row per submission, its verdict,
// a mark per step and per rule of the story (in the story's order, as
// `socklab trace --expect` lists them), and the first cause in one
// sentence.
func WriteTable(w io.Writer, l i18n.Lang, lesson string, results []Submission) {
	head := []string{l.T("grade.col.submission"), l.T("grade.col.verdict"), "steps", "rules", l.T("grade.col.cause")}
	rows := [][]string{head}
	passed := 0
	for _, s := range results {
		var steps, rules strings.Builder
		for _, c := range s.Checks {
			if c.Kind == "step" {
				steps.WriteString(c.Mark)
			} else {
				rules.WriteString(c.Mark)
			}
		}
		v := l.T("grade." + verdictKey(s.Status))
		if s.Passed {
			passed++
		}
		cause := ""
		if !s.Passed {
			cause = s.Say(l)
		}
		rows = append(rows, []string{s.Name, v, steps.String(), rules.String(), cause})
	}
	widths := make([]int, len(head))
	for _, r := range rows {
		for i, c := range r[:len(r)-1] {
			widths[i] = max(widths[i], trace.Width(c))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r[:len(r)-1] {
			b.WriteString(report.Pad(c, widths[i]) + "  ")
		}
		b.WriteString(r[len(r)-1])
		fmt.Fprintln(w, report.SafeLine(strings.TrimRight(b.String(), " ")))
	}
	fmt.Fprintln(w, l.T("grade.summary", passed, len(results), lesson))
}

func verdictKey(status string) string {
	switch status {
	case "passed":
		return "passed"
	case "did_not_finish":
		return "did_not_finish"
	case "not_judged":
		return "unjudged"
	}
	return "failed"
}

// WriteJSON writes the results as a JSON array, one object per submission
// (docs/grading.md).
func WriteJSON(w io.Writer, results []Submission) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	if results == nil {
		results = []Submission{}
	}
	return e.Encode(results)
}

// JUnit XML: one testsuite per submission, one testcase per check, and a
// failure for each check that missed (its reason code, and the first
// cause), as CI systems read it.
type (
	JUnitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Suites   []JUnitSuite `xml:"testsuite"`
	}
	JUnitSuite struct {
		Name     string      `xml:"name,attr"`
		Tests    int         `xml:"tests,attr"`
		Failures int         `xml:"failures,attr"`
		Errors   int         `xml:"errors,attr"`
		Time     float64     `xml:"time,attr"`
		Cases    []JUnitCase `xml:"testcase"`
	}
	JUnitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		Failure   *JUnitFailure `xml:"failure,omitempty"`
		Error     *JUnitFailure `xml:"error,omitempty"`
	}
	JUnitFailure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
)

// JUnit makes the results' JUnit document.
func JUnit(lesson string, results []Submission) JUnitSuites {
	doc := JUnitSuites{Name: "socklab grade --expect " + lesson}
	for _, s := range results {
		suite := JUnitSuite{Name: s.Name, Time: s.Seconds}
		cases := s.Checks
		if len(cases) == 0 { // not judged: one case says why
			cases = []Check{{Name: "judged", Reason: s.Reason}}
		}
		for _, c := range cases {
			tc := JUnitCase{Name: c.Name, Classname: s.Name}
			switch {
			case s.Status == "not_judged":
				tc.Error = &JUnitFailure{Message: s.Reason, Type: s.Status, Text: s.Sentence}
				suite.Errors++
			case !c.Passed:
				tc.Failure = &JUnitFailure{Message: c.Reason, Type: s.Reason, Text: s.Sentence}
				suite.Failures++
			}
			suite.Cases = append(suite.Cases, tc)
		}
		suite.Tests = len(suite.Cases)
		doc.Tests += suite.Tests
		doc.Failures += suite.Failures
		doc.Suites = append(doc.Suites, suite)
	}
	return doc
}

// Classroom is GitHub Classroom's autograding result: a test per check of
// each submission, a point each.
type Classroom struct {
	Version  int             `json:"version"`
	Status   string          `json:"status"` // pass, fail or error
	MaxScore int             `json:"max_score"`
	Tests    []ClassroomTest `json:"tests"`
}

// A ClassroomTest is one check of one submission.
type ClassroomTest struct {
	Name     string `json:"name"`
	Status   string `json:"status"` // pass, fail or error
	Score    int    `json:"score"`
	MaxScore int    `json:"max_score"`
	Message  string `json:"message,omitempty"`
}

// ClassroomResult makes the results' GitHub Classroom document.
func ClassroomResult(results []Submission) Classroom {
	doc := Classroom{Version: 1, Status: "pass"}
	for _, s := range results {
		for _, c := range checksOf(s) {
			t := ClassroomTest{Name: s.Name + ": " + c.Name, Status: "pass", Score: 1, MaxScore: 1}
			switch {
			case s.Status == "not_judged":
				t.Status, t.Score, t.Message = "error", 0, s.Sentence
				doc.Status = "error"
			case !c.Passed:
				t.Status, t.Score, t.Message = "fail", 0, s.Sentence
				if doc.Status == "pass" {
					doc.Status = "fail"
				}
			}
			doc.MaxScore++
			doc.Tests = append(doc.Tests, t)
		}
	}
	return doc
}

// Gradescope is Gradescope's results.json: a test per check of each
// submission, a point each.
type Gradescope struct {
	Score  int              `json:"score"`
	Output string           `json:"output,omitempty"`
	Tests  []GradescopeTest `json:"tests"`
}

// A GradescopeTest is one check of one submission.
type GradescopeTest struct {
	Name       string `json:"name"`
	Score      int    `json:"score"`
	MaxScore   int    `json:"max_score"`
	Status     string `json:"status"` // passed or failed
	Output     string `json:"output,omitempty"`
	Visibility string `json:"visibility"`
}

// GradescopeResult makes the results' Gradescope document.
func GradescopeResult(results []Submission) Gradescope {
	var doc Gradescope
	var out []string
	for _, s := range results {
		if !s.Passed {
			out = append(out, s.Name+": "+s.Sentence)
		}
		for _, c := range checksOf(s) {
			t := GradescopeTest{Name: s.Name + ": " + c.Name, Score: 1, MaxScore: 1, Status: "passed", Visibility: "visible"}
			if !c.Passed || s.Status == "not_judged" {
				t.Score, t.Status, t.Output = 0, "failed", s.Sentence
			}
			doc.Score += t.Score
			doc.Tests = append(doc.Tests, t)
		}
	}
	doc.Output = strings.Join(out, "\n")
	return doc
}

// checksOf are a submission's checks, or one that says it was not judged
// or did not finish.
func checksOf(s Submission) []Check {
	if len(s.Checks) == 0 || s.Status == "not_judged" {
		return []Check{{Name: "judged", Passed: false, Reason: s.Reason}}
	}
	if s.Status == "did_not_finish" {
		return append(s.Checks[:len(s.Checks):len(s.Checks)], Check{Name: "finished in time", Reason: "timeout"})
	}
	return s.Checks
}

// writeFiles writes the files the flags asked for.
func writeFiles(results []Submission, junit, classroom, gradescope string, o Options) error {
	write := func(name string, f func(io.Writer) error) error {
		if name == "" {
			return nil
		}
		file, err := os.Create(name)
		if err != nil {
			return err
		}
		if err := f(file); err != nil {
			file.Close()
			return err
		}
		return file.Close()
	}
	jsonOf := func(v any) func(io.Writer) error {
		return func(w io.Writer) error {
			e := json.NewEncoder(w)
			e.SetIndent("", "  ")
			return e.Encode(v)
		}
	}
	if err := write(junit, func(w io.Writer) error {
		io.WriteString(w, xml.Header)
		e := xml.NewEncoder(w)
		e.Indent("", "  ")
		if err := e.Encode(JUnit(o.Lesson, results)); err != nil {
			return err
		}
		_, err := io.WriteString(w, "\n")
		return err
	}); err != nil {
		return err
	}
	if err := write(classroom, jsonOf(ClassroomResult(results))); err != nil {
		return err
	}
	return write(gradescope, jsonOf(GradescopeResult(results)))
}
