package trace

import (
	"strconv"
	"testing"
	"unicode/utf8"
)

func TestPreview(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		max       int
		want      string
		truncated bool
	}{
		{"empty", "", 0, ``, false},
		{"ascii", "hello", 0, `hello`, false},
		{"chinese", "你好, server", 0, `你好, server`, false},
		{"newline and tab", "a\nb\tc\r", 0, `a\nb\tc\r`, false},
		{"escape sequence", "\x1b[2J\x1b]0;owned\a", 0, `\x1b[2J\x1b]0;owned\a`, false},
		{"nul and del", "\x00\x7f", 0, `\x00\x7f`, false},
		{"C1 control", "\u009b31m", 0, `\u009b31m`, false},
		{"bidi override", "abc\u202edef", 0, `abc\u202edef`, false},
		{"invalid utf8", "\xff\xfeok", 0, `\xff\xfeok`, false},
		{"quote and backslash", `say "hi" \o/`, 0, `say \"hi\" \\o/`, false},
		{"cut at max", "abcdef", 3, `abc`, true},
		{"cut never splits a character", "a你好", 3, `a`, true},
		{"cut inside invalid bytes", "\xff\xff\xff\xff\xff", 2, `\xff\xff`, true},
		{"no cut at exact length", "abc", 3, `abc`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, truncated := Preview([]byte(tt.in), tt.max)
			if got != tt.want || truncated != tt.truncated {
				t.Errorf("Preview(%q, %d) = %q, %v; want %q, %v", tt.in, tt.max, got, truncated, tt.want, tt.truncated)
			}
			if !utf8.ValidString(got) {
				t.Errorf("Preview(%q) = %q is not valid UTF-8", tt.in, got)
			}
			if !tt.truncated {
				back, err := strconv.Unquote(`"` + got + `"`)
				if err != nil || back != tt.in {
					t.Errorf("Unquote(Preview(%q)) = %q, %v; want the input back", tt.in, back, err)
				}
			}
		})
	}
}
