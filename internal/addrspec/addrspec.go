// Package addrspec reads the HOST:PORT socklab's --addr takes, and turns
// its host into an address. Its errors say themselves in the catalogue's
// words (Error, ResolveError); the command decides their exit status.
package addrspec

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/socklab/socklab/trace/i18n"
)

// An Error is an address the command cannot use: a catalogue Key and its
// Args, the key of a Hint, and whether it is a mistake in the command
// line (Usage) rather than a failure.
type Error struct {
	Hint, Key string
	Args      []any
	Usage     bool
}

func (e *Error) Error() string { return i18n.EN.T(e.Key, e.Args...) }

// DefaultHost is where servers listen and clients connect unless the user
// names another address: this machine only.
const DefaultHost = "127.0.0.1"

// A Spec is a parsed --addr: a host (an IP or a name) and a port.
type Spec struct {
	Host string
	Port uint16
}

// Parse reads HOST:PORT. An empty host means 127.0.0.1. Port 0 (let the
// kernel choose) is allowed only for a server.
func Parse(s string, server bool) (Spec, error) {
	if s == "" {
		return Spec{}, &Error{Hint: "hint.addr_example", Key: "err.addr_empty", Usage: true}
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		var addrErr *net.AddrError
		switch {
		case errors.As(err, &addrErr) && addrErr.Err == "missing port in address":
			return Spec{}, &Error{Hint: "hint.addr_example", Key: "err.addr_no_port", Args: []any{s}, Usage: true}
		case errors.As(err, &addrErr) && addrErr.Err == "too many colons in address":
			return Spec{}, &Error{Hint: "hint.ipv6_brackets", Key: "err.addr_colons", Args: []any{s}, Usage: true}
		}
		return Spec{}, &Error{Hint: "hint.addr_example", Key: "err.addr_not_hostport", Args: []any{s}, Usage: true}
	}
	if port == "" {
		return Spec{}, &Error{Hint: "hint.addr_example", Key: "err.addr_no_port", Args: []any{s}, Usage: true}
	}
	n, err := strconv.Atoi(port)
	low, hint := 1, "hint.port_range"
	if server {
		low, hint = 0, "hint.port_range.server"
	}
	if err != nil || n < low || n > 65535 {
		if err != nil && !isNumber(port) {
			return Spec{}, &Error{Hint: hint, Key: "err.port_nan", Args: []any{port}, Usage: true}
		}
		return Spec{}, &Error{Hint: hint, Key: "err.port_range", Args: []any{port}, Usage: true}
	}
	if host == "" {
		host = DefaultHost
	}
	return Spec{Host: host, Port: uint16(n)}, nil
}

func isNumber(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// A ResolveError says, in any language, that a host name did not resolve.
type ResolveError struct{ Host, why string }

func (e *ResolveError) Error() string { return e.Say(i18n.EN) }

// Say says the error in l (i18n.Sayer).
func (e *ResolveError) Say(l i18n.Lang) string {
	return l.T("line.hint", l.T("err.resolve", e.Host, l.T(e.why)), l.T("hint.resolve"))
}

// resolveTimeout bounds a name lookup, so a dead DNS server cannot hang us.
const resolveTimeout = 5 * time.Second

// Resolve turns the host into an address, preferring IPv4 (the lessons'
// default family) when a name has both. Resolving is the C library's (or
// Go's) work, not a socket step, so it is not traced.
func (a Spec) Resolve(ctx context.Context) (netip.AddrPort, error) {
	if ip, err := netip.ParseAddr(a.Host); err == nil {
		return netip.AddrPortFrom(ip.Unmap(), a.Port), nil
	}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", a.Host)
	if err != nil || len(ips) == 0 {
		why := "why.no_address"
		var dnsErr *net.DNSError
		switch {
		case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
			why = "why.no_such_host"
		case errors.As(err, &dnsErr) && dnsErr.IsTimeout:
			why = "why.lookup_timeout"
		case err != nil:
			return netip.AddrPort{}, &Error{Hint: "hint.resolve", Key: "err.resolve", Args: []any{a.Host, err.Error()}}
		}
		return netip.AddrPort{}, &ResolveError{Host: a.Host, why: why}
	}
	best := ips[0].Unmap()
	for _, ip := range ips {
		if ip.Unmap().Is4() {
			best = ip.Unmap()
			break
		}
	}
	return netip.AddrPortFrom(best, a.Port), nil
}
