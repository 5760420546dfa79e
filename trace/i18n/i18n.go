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
	"strings"
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

// T returns the message key in l, formatted with args as fmt.Sprintf does.
// A key missing from l's catalogue falls back to English, and one missing
// from both shows itself, so a mistake is visible but never fatal.
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
	return fmt.Sprintf(text, args...)
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
