package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
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
	const example = "write HOST:PORT, like 127.0.0.1:1234"
	if s == "" {
		return addrSpec{}, usagef(example, "--addr is empty")
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		var addrErr *net.AddrError
		switch {
		case errors.As(err, &addrErr) && addrErr.Err == "missing port in address":
			return addrSpec{}, usagef(example, "--addr %q has no port", s)
		case errors.As(err, &addrErr) && addrErr.Err == "too many colons in address":
			return addrSpec{}, usagef("put an IPv6 address in brackets, like [::1]:1234", "--addr %q has too many colons", s)
		}
		return addrSpec{}, usagef(example, "--addr %q is not HOST:PORT", s)
	}
	n, err := strconv.Atoi(port)
	low := 1
	if server {
		low = 0
	}
	if err != nil || n < low || n > 65535 {
		hint := "use a port from 1 to 65535"
		if server {
			hint = "use a port from 1 to 65535, or 0 to let the kernel choose"
		}
		if err != nil && !isNumber(port) {
			return addrSpec{}, usagef(hint, "port %q in --addr is not a number", port)
		}
		return addrSpec{}, usagef(hint, "port %s in --addr is out of range", port)
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
		why := "no address found"
		var dnsErr *net.DNSError
		switch {
		case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
			why = "no such host"
		case errors.As(err, &dnsErr) && dnsErr.IsTimeout:
			why = "the lookup timed out"
		case err != nil:
			why = err.Error()
		}
		return netip.AddrPort{}, fmt.Errorf("cannot resolve host %q (%s); check the spelling, or give an IP address like 127.0.0.1", a.host, why)
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
