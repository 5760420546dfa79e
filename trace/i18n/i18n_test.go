package i18n

import (
	"regexp"
	"slices"
	"testing"
	"time"
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

// TestDuration: Chinese says a duration's units in words, English keeps
// Go's form, and T says a duration argument in its language.
func TestDuration(t *testing.T) {
	for _, tt := range []struct {
		d      time.Duration
		en, zh string
	}{
		{0, "0s", "0 秒"},
		{415 * time.Microsecond, "415µs", "415 微秒"},
		{1500 * time.Microsecond, "1.5ms", "1.5 毫秒"},
		{59900 * time.Millisecond, "59.9s", "59.9 秒"},
		{time.Minute, "1m0s", "1 分钟"},
		{135 * time.Second, "2m15s", "2 分 15 秒"},
	} {
		if got := EN.Duration(tt.d); got != tt.en {
			t.Errorf("EN.Duration(%v) = %q, want %q", tt.d, got, tt.en)
		}
		if got := ZH.Duration(tt.d); got != tt.zh {
			t.Errorf("ZH.Duration(%v) = %q, want %q", tt.d, got, tt.zh)
		}
	}
	if got := ZH.T("note.returned_after", 415*time.Microsecond); got != "（415 微秒 后返回）" {
		t.Errorf("T with a duration in Chinese = %q", got)
	}
}
