//go:build linux

package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/socklab/socklab/lessons"
)

// A Chinese lesson page is translated by hand from the English one: its
// prose cannot be generated, but it can be kept from drifting. The page
// names the version of the English page it was translated from (a hash
// of what is written by hand there, and of the lesson's own words quoted
// from its source); when the English page changes, TestTranslatedPages
// fails until the translation is brought up to date and the hash with it.
// Its generated blocks are checked with the English ones, by
// TestLessonPages.

// translatedFrom finds the comment naming the English page's version.
var translatedFrom = regexp.MustCompile(`<!-- translated from ([^ ]+): ([0-9a-f]+) -->`)

// generatedBlock matches a generated block the translation need not
// follow: the code, the run and the diagram are regenerated in Chinese.
var generatedBlock = regexp.MustCompile(`(?s)(<!-- generated: (literate|transcript|diagram|wire|packets) -->\n).*?(<!-- end generated: (literate|transcript|diagram|wire|packets) -->\n)`)

// englishVersion is the hash of what a translation of the English page
// follows: the page less its regenerated blocks.
func englishVersion(page string) string {
	sum := sha256.Sum256([]byte(generatedBlock.ReplaceAllString(page, "$1$3")))
	return fmt.Sprintf("%x", sum[:6])
}

// TestTranslatedPages checks that every lesson has a Chinese page and
// every Chinese page a lesson, that the two link to each other, that
// docs/zh/README.md lists them all, and that each translation follows the
// English page as it is now.
func TestTranslatedPages(t *testing.T) {
	var want []string
	for _, l := range lessons.All() {
		want = append(want, l.Name+".md")
	}
	found, err := filepath.Glob(filepath.Join("..", "..", "docs", "zh", "lessons", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	var have []string
	for _, f := range found {
		have = append(have, filepath.Base(f))
	}
	for _, name := range have {
		if !slices.Contains(want, name) {
			t.Errorf("docs/zh/lessons/%s: no lesson of that name (socklab list); remove the page or rename it", name)
		}
	}
	index, err := os.ReadFile(filepath.Join("..", "..", "docs", "zh", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lessons.All() {
		english, err := os.ReadFile(filepath.Join("..", "..", "docs", "lessons", l.Name+".md"))
		if err != nil {
			t.Fatal(err)
		}
		if toZH := "(../zh/lessons/" + l.Name + ".md)"; !strings.Contains(string(english), toZH) {
			t.Errorf("docs/lessons/%s.md does not link to its Chinese page: add [中文]%s", l.Name, toZH)
		}
		if !strings.Contains(string(index), "(lessons/"+l.Name+".md)") {
			t.Errorf("docs/zh/README.md does not list the %s lesson's page (lessons/%[1]s.md)", l.Name)
		}
		path := "docs/zh/lessons/" + l.Name + ".md"
		chinese, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(path)))
		if os.IsNotExist(err) {
			t.Errorf("%s is missing: go test ./cmd/socklab -run TestLessonPages -update writes its skeleton, to translate from docs/lessons/%s.md", path, l.Name)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if toEN := "(../../lessons/" + l.Name + ".md)"; !strings.Contains(string(chinese), toEN) {
			t.Errorf("%s does not link to its English page %s", path, toEN)
		}
		if strings.Contains(string(chinese), untranslated) {
			t.Errorf("%s still has parts to translate (marked %s)", path, untranslated)
		}
		now := englishVersion(string(english))
		m := translatedFrom.FindStringSubmatch(string(chinese))
		switch {
		case m == nil:
			t.Errorf("%s does not say which version of the English page it translates: add <!-- translated from ../../lessons/%s.md: %s -->", path, l.Name, now)
		case m[2] != now:
			t.Errorf("%s was translated from another version of docs/lessons/%s.md: bring the translation up to date (git log -p docs/lessons/%[2]s.md shows what changed), then write its version, %s, in the page's first comment", path, l.Name, now)
		}
	}
}

// untranslated marks what a new page's skeleton leaves to translate.
const untranslated = "（待译"

// newTranslatedPage is the skeleton of a lesson's Chinese page, to be
// translated by hand from the English page, whose version it names; -update
// fills its generated blocks.
func newTranslatedPage(t *testing.T, l lessons.Lesson) string {
	t.Helper()
	english, err := os.ReadFile(filepath.Join("..", "..", "docs", "lessons", l.Name+".md"))
	if err != nil {
		t.Fatal(err)
	}
	begin := func(n string) string { b, e := markers(n); return b + e }
	var wire string
	if l.Traffic != nil {
		wire = "## 程序写出了什么\n\n" + begin("wire") + "\n"
	}
	return fmt.Sprintf(`# %s

<!-- translated from ../../lessons/%[1]s.md: %s -->
[English](../../lessons/%[1]s.md) · 本页译自英文页面；代码里的注释保持英文。下面的代码、运行记录和时序图都来自一次真实运行
（`+"`--lang=zh --explain`"+`），由测试检查。

（待译：这一课一句话讲什么。）

运行：`+"`go run ./cmd/socklab run %[1]s --lang=zh`"+`；课堂上加 `+"`--step --explain`"+`。

## 这一课讲什么

（待译：课程源代码的注释。）

## 代码，一步一步

每一步的注释和代码，以及它在一次真实运行中打印的行（按每个调用在代码里发出的位置对应；时间、端口和描述符每次运行都不同）。
代码、注释或输出一变，测试就会失败。

%[3]s
## 一次真实运行

%[4]s
## 时序图

%[5]s
%[6]s## 练习

`, l.Name, englishVersion(string(english)), begin("literate"), begin("transcript"), begin("diagram"), wire)
}
