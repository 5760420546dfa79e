package main

import (
	"context"
	"errors"
	"net/netip"

	"github.com/socklab/socklab/internal/addrspec"
)

// defaultHost is where servers listen and clients connect unless the user
// names another address: this machine only.
const defaultHost = addrspec.DefaultHost

// addrSpec is a parsed --addr (addrspec.Spec).
type addrSpec = addrspec.Spec

// parseAddr reads HOST:PORT (addrspec.Parse): its mistakes are usage
// errors.
func parseAddr(s string, server bool) (addrSpec, error) {
	a, err := addrspec.Parse(s, server)
	return a, addrError(err)
}

// resolve turns spec's host into an address (addrspec.Spec.Resolve).
func resolve(ctx context.Context, spec addrSpec) (netip.AddrPort, error) {
	a, err := spec.Resolve(ctx)
	return a, addrError(err)
}

// addrError makes an addrspec.Error the command's message.
func addrError(err error) error {
	var a *addrspec.Error
	if errors.As(err, &a) {
		return &message{key: a.Key, args: a.Args, hint: a.Hint, usage: a.Usage}
	}
	return err
}
