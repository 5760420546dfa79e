package main

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

// defaultHost is where servers listen and clients connect unless the user
// names another address: this machine only.
const defaultHost = "127.0.0.1"

// addrSpec is a parsed --addr: a host (an IP or a name) and a port.
type addrSpec struct {
	host string
	port uint16
}

// parseAddr reads HOST:PORT. An empty host means 127.0.0.1. Port 0 (let the
// kernel choose) is allowed only for a server.
func parseAddr(s string, server bool) (addrSpec, error) {
	if s == "" {
		return addrSpec{}, usage("hint.addr_example", "err.addr_empty")
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		var addrErr *net.AddrError
		switch {
		case errors.As(err, &addrErr) && addrErr.Err == "missing port in address":
			return addrSpec{}, usage("hint.addr_example", "err.addr_no_port", s)
		case errors.As(err, &addrErr) && addrErr.Err == "too many colons in address":
			return addrSpec{}, usage("hint.ipv6_brackets", "err.addr_colons", s)
		}
		return addrSpec{}, usage("hint.addr_example", "err.addr_not_hostport", s)
	}
	if port == "" {
		return addrSpec{}, usage("hint.addr_example", "err.addr_no_port", s)
	}
	n, err := strconv.Atoi(port)
	low, hint := 1, "hint.port_range"
	if server {
		low, hint = 0, "hint.port_range.server"
	}
	if err != nil || n < low || n > 65535 {
		if err != nil && !isNumber(port) {
			return addrSpec{}, usage(hint, "err.port_nan", port)
		}
		return addrSpec{}, usage(hint, "err.port_range", port)
	}
	if host == "" {
		host = defaultHost
	}
	return addrSpec{host: host, port: uint16(n)}, nil
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

// resolveError says, in any language, that a host name did not resolve.
type resolveError struct{ host, why string }

func (e *resolveError) Error() string { return e.Say(i18n.EN) }

// Say says the error in l (i18n.Sayer).
func (e *resolveError) Say(l i18n.Lang) string {
	return l.T("line.hint", l.T("err.resolve", e.host, l.T(e.why)), l.T("hint.resolve"))
}

// resolveTimeout bounds a name lookup, so a dead DNS server cannot hang us.
const resolveTimeout = 5 * time.Second

// resolve turns the host into an address, preferring IPv4 (the lessons'
// default family) when a name has both. Resolving is the C library's (or
// Go's) work, not a socket step, so it is not traced.
func (a addrSpec) resolve(ctx context.Context) (netip.AddrPort, error) {
	if ip, err := netip.ParseAddr(a.host); err == nil {
		return netip.AddrPortFrom(ip.Unmap(), a.port), nil
	}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", a.host)
	if err != nil || len(ips) == 0 {
		why := &message{key: "why.no_address"}
		var dnsErr *net.DNSError
		switch {
		case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
			why.key = "why.no_such_host"
		case errors.As(err, &dnsErr) && dnsErr.IsTimeout:
			why.key = "why.lookup_timeout"
		case err != nil:
			return netip.AddrPort{}, failure("hint.resolve", "err.resolve", a.host, err.Error())
		}
		return netip.AddrPort{}, &resolveError{host: a.host, why: why.key}
	}
	best := ips[0].Unmap()
	for _, ip := range ips {
		if ip.Unmap().Is4() {
			best = ip.Unmap()
			break
		}
	}
	return netip.AddrPortFrom(best, a.port), nil
}
