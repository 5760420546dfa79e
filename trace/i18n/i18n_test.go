package i18n

import (
	"regexp"
	"slices"
	"testing"
)

var verb = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)

func TestCataloguesMatch(t *testing.T) {
	for key, text := range en {
		other, ok := zh[key]
		switch {
		case !ok:
			t.Errorf("zh has no %q", key)
		case text == "" || other == "":
			t.Errorf("%q is empty in a catalogue", key)
		case !slices.Equal(verb.FindAllString(text, -1), verb.FindAllString(other, -1)):
			t.Errorf("%q: en takes %q, zh takes %q", key, verb.FindAllString(text, -1), verb.FindAllString(other, -1))
		}
	}
	for key := range zh {
		if _, ok := en[key]; !ok {
			t.Errorf("en has no %q", key)
		}
	}
}

func TestFromEnv(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want Lang
	}{
		{map[string]string{}, EN},
		{map[string]string{"LANG": "zh_CN.UTF-8"}, ZH},
		{map[string]string{"LANG": "zh_TW.UTF-8"}, ZH},
		{map[string]string{"LANG": "en_US.UTF-8"}, EN},
		{map[string]string{"LANG": "zh_CN.UTF-8", "LC_MESSAGES": "C"}, EN},
		{map[string]string{"LANG": "C", "LC_ALL": "zh_CN.UTF-8"}, ZH},
		{map[string]string{"LC_MESSAGES": "zh_CN.UTF-8", "LANG": "C"}, ZH},
	}
	for _, tt := range tests {
		if got := FromEnv(func(k string) string { return tt.env[k] }); got != tt.want {
			t.Errorf("FromEnv(%v) = %s, want %s", tt.env, got, tt.want)
		}
	}
}

func TestT(t *testing.T) {
	if got := ZH.T("err.unknown_lesson", "x"); got != `没有 "x" 这一课` {
		t.Errorf("got %q", got)
	}
	if got := EN.T("no.such.key"); got != "{no.such.key}" {
		t.Errorf("a missing key: got %q, want it to show itself", got)
	}
}
