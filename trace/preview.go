package trace

import (
	"strconv"
	"unicode/utf8"
)

// DefaultPreview is how many bytes of data the text sink shows.
const DefaultPreview = 64

// Preview returns at most limit bytes of b (all of b when limit <= 0) as a Go
// string literal without its quotes, safe to print on any terminal: printable
// UTF-8 stays as it is ("你好" stays "你好"); control characters, escape
// sequences, Unicode format characters such as bidi overrides, and invalid
// UTF-8 are escaped (\n, \x1b, \u202e, \xff), and a backslash is doubled, so
// strconv.Unquote gives the bytes back. Bytes from a peer are untrusted:
// this is the only way socklab shows them. truncated reports whether bytes
// were left off; a cut never splits a valid UTF-8 character.
func Preview(b []byte, limit int) (s string, truncated bool) {
	return string(AppendPreview(nil, b, limit)), previewCut(b, limit) < len(b)
}

// previewCut returns how many bytes of b a preview of at most limit bytes
// shows.
func previewCut(b []byte, limit int) int {
	if limit <= 0 || len(b) <= limit {
		return len(b)
	}
	// Back off to the start of a character, but never more than a
	// character's length, so invalid UTF-8 is still cut at limit.
	for i := limit; i > 0 && i > limit-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			return i
		}
	}
	return limit
}

// AppendPreview appends the preview of b (see [Preview]) to dst.
func AppendPreview(dst, b []byte, limit int) []byte {
	b = b[:previewCut(b, limit)]
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\x`...)
			dst = append(dst, hexDigits[b[0]>>4], hexDigits[b[0]&0xf])
		case r == '"':
			dst = append(dst, `\"`...)
		case r == '\\':
			dst = append(dst, `\\`...)
		case strconv.IsPrint(r):
			dst = append(dst, b[:size]...)
		default:
			// strconv knows the short forms (\n, \t, \x1b, \u202e).
			q := strconv.AppendQuoteRune(dst, r)
			// AppendQuoteRune wrote 'x'; drop the single quotes.
			n := len(q) - len(dst)
			copy(q[len(dst):], q[len(dst)+1:len(q)-1])
			dst = q[:len(dst)+n-2]
		}
		b = b[size:]
	}
	return dst
}

const hexDigits = "0123456789abcdef"
