// Package i18n holds every sentence socklab shows a person, in English and
// in Chinese, and picks the language.
//
// Code names a message by its key; the catalogues (en.go, zh.go) hold the
// text. A test checks that both catalogues have the same keys, that no text
// is empty, that both texts of a key take the same arguments, and that every
// key the code uses exists.
package i18n

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Lang is a language socklab speaks.
type Lang string

const (
	EN Lang = "en"
	ZH Lang = "zh"
)

// Langs are the languages there are catalogues for.
var Langs = []Lang{EN, ZH}

var catalogues = map[Lang]map[string]string{EN: en, ZH: zh}

// Parse reads a --lang value.
func Parse(s string) (Lang, bool) {
	switch strings.ToLower(s) {
	case "en":
		return EN, true
	case "zh":
		return ZH, true
	}
	return "", false
}

// FromEnv picks the language as the C library would pick the messages'
// locale: the first of LC_ALL, LC_MESSAGES and LANG that is set decides;
// zh_CN.UTF-8 and the like mean Chinese, anything else English.
func FromEnv(getenv func(string) string) Lang {
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := getenv(name); v != "" {
			if strings.HasPrefix(strings.ToLower(v), "zh") {
				return ZH
			}
			return EN
		}
	}
	return EN
}

// T returns the message key in l, formatted with args as fmt.Sprintf does,
// a duration said in l (see Duration). A key missing from l's catalogue
// falls back to English, and one missing from both shows itself, so a
// mistake is visible but never fatal.
func (l Lang) T(key string, args ...any) string {
	text, ok := l.catalogue()[key]
	if !ok {
		if text, ok = en[key]; !ok {
			return "{" + key + "}"
		}
	}
	if len(args) == 0 {
		return text
	}
	if l != EN {
		cloned := false
		for i, a := range args {
			if d, ok := a.(time.Duration); ok {
				if !cloned {
					args, cloned = slices.Clone(args), true // the caller's slice stays as it was
				}
				args[i] = l.Duration(d)
			}
		}
	}
	return fmt.Sprintf(text, args...)
}

// Duration says d in l. English keeps Go's own form ("415µs", "59.9s",
// "2m15s"), which a programmer meets everywhere; Chinese says its units in
// words ("415 微秒", "59.9 秒", "2 分 15 秒").
func (l Lang) Duration(d time.Duration) string {
	if l != ZH {
		return d.String()
	}
	num := func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	switch {
	case d == 0:
		return "0 秒"
	case d < time.Microsecond:
		return sign + num(float64(d)) + " 纳秒"
	case d < time.Millisecond:
		return sign + num(float64(d)/float64(time.Microsecond)) + " 微秒"
	case d < time.Second:
		return sign + num(float64(d)/float64(time.Millisecond)) + " 毫秒"
	case d < time.Minute:
		return sign + num(d.Seconds()) + " 秒"
	case d < time.Hour:
		m := d / time.Minute
		if rest := d - m*time.Minute; rest > 0 {
			return sign + strconv.Itoa(int(m)) + " 分 " + num(rest.Seconds()) + " 秒"
		}
		return sign + strconv.Itoa(int(m)) + " 分钟"
	}
	h := d / time.Hour
	return sign + strconv.Itoa(int(h)) + " 小时 " + l.Duration(d-h*time.Hour)
}

// Has reports whether the catalogue of l has key.
func (l Lang) Has(key string) bool {
	_, ok := l.catalogue()[key]
	return ok
}

// catalogue returns l's catalogue; the zero Lang is English.
func (l Lang) catalogue() map[string]string {
	if c, ok := catalogues[l]; ok {
		return c
	}
	return en
}

// Catalogue returns a copy of l's catalogue, for tests and tools.
func Catalogue(l Lang) map[string]string {
	c := make(map[string]string, len(catalogues[l]))
	for k, v := range catalogues[l] {
		c[k] = v
	}
	return c
}
