package main

import (
	"testing"
)

// FuzzParseAddr: any string gives an address or a usage error that says
// what is wrong, never a panic.
func FuzzParseAddr(f *testing.F) {
	for _, seed := range []string{"127.0.0.1:1234", "", "127.0.0.1", ":80", "[::1]:0", "::1:80", "host:http", "a:-1", "a:70000", "[fe80::1%eth0]:80", "\x1b:1"} {
		f.Add(seed, true)
		f.Add(seed, false)
	}
	f.Fuzz(func(t *testing.T, s string, server bool) {
		spec, err := parseAddr(s, server)
		if err != nil {
			m, ok := err.(*message)
			if !ok || !m.usage || m.Error() == "" {
				t.Fatalf("parseAddr(%q): %v is not a usage error", s, err)
			}
			return
		}
		if spec.Host == "" {
			t.Fatalf("parseAddr(%q) gave no host", s)
		}
		if !server && spec.Port == 0 {
			t.Fatalf("parseAddr(%q) gave a client port 0", s)
		}
	})
}
