package sock

import (
	"context"
	"net/netip"
	"strconv"

	"github.com/socklab/socklab/trace"
)

// addrString is an address as the trace shows it; "" when there is none
// (the unnamed peer of a Unix domain socket).
func addrString(a netip.AddrPort) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// BindPath gives a Unix domain socket its name, a path in the file system:
// bind(2). The file stays until it is removed.
func (s *Socket) BindPath(path string) error {
	if s.fd < 0 {
		return ErrClosed
	}
	e := s.event(trace.OpBind, "bind")
	e.Local = path
	if err := s.peer.Admit(&e); err != nil {
		return &CallError{Call: "bind", Err: err}
	}
	began := s.peer.Begin(&e)
	err := sysBindPath(s.fd, path)
	s.end(&e, began, result(0, err), err)
	if err != nil {
		return &CallError{Call: "bind", Arg: path, Err: err}
	}
	s.local = path
	return nil
}

// ConnectPath connects a Unix domain socket to the one bound at path:
// connect(2).
func (s *Socket) ConnectPath(ctx context.Context, path string) error {
	if s.fd < 0 {
		return ErrClosed
	}
	if ctx.Err() != nil {
		return &CallError{Call: "connect", Arg: path, Err: interrupted(ctx, nil)}
	}
	e := s.event(trace.OpConnect, "connect")
	e.Remote = path
	if err := s.peer.Admit(&e); err != nil {
		return &CallError{Call: "connect", Err: err}
	}
	began := s.peer.Begin(&e)
	woken, err := s.blocking(ctx, false, func() error { return sysConnectPath(s.fd, path) })
	if err == nil {
		woken = false
	}
	s.endBlocking(ctx, &e, began, result(0, err), err, woken)
	if err != nil {
		return &CallError{Call: "connect", Arg: path, Err: s.wrap(ctx, err, woken)}
	}
	s.remote = path
	return nil
}

// SendTo sends b as one datagram to addr: sendto(2). A datagram is sent
// whole or not at all.
func (s *Socket) SendTo(ctx context.Context, b []byte, to netip.AddrPort) (int, error) {
	if s.fd < 0 {
		return 0, ErrClosed
	}
	if ctx.Err() != nil {
		return 0, &CallError{Call: "sendto", Err: interrupted(ctx, nil)}
	}
	e := s.event(trace.OpSendto, "sendto")
	e.Remote, e.N, e.Data, e.Offered, e.Arg = to.String(), len(b), b, len(b), strconv.Itoa(len(b))
	if err := s.peer.Admit(&e); err != nil {
		return 0, &CallError{Call: "sendto", Err: err}
	}
	began := s.peer.Begin(&e)
	woken, err := s.blocking(ctx, true, func() error { return sysSendTo(s.fd, b, to) })
	n := len(b)
	if err == nil {
		woken = false
	} else {
		n, e.N = 0, 0
	}
	s.endBlocking(ctx, &e, began, result(n, err), err, woken)
	if err != nil {
		return 0, &CallError{Call: "sendto", Arg: to.String(), Err: s.wrap(ctx, err, woken)}
	}
	return n, nil
}

// RecvFrom waits for one datagram and reads it into b: recvfrom(2). It
// returns the datagram's size (cut to len(b)) and who sent it. One call
// reads one datagram, never more, never part of two.
func (s *Socket) RecvFrom(ctx context.Context, b []byte) (int, netip.AddrPort, error) {
	if s.fd < 0 {
		return 0, netip.AddrPort{}, ErrClosed
	}
	if ctx.Err() != nil {
		return 0, netip.AddrPort{}, &CallError{Call: "recvfrom", Err: interrupted(ctx, nil)}
	}
	e := s.event(trace.OpRecvfrom, "recvfrom")
	e.N, e.Offered, e.Arg = len(b), len(b), strconv.Itoa(len(b))
	if err := s.peer.Admit(&e); err != nil {
		return 0, netip.AddrPort{}, &CallError{Call: "recvfrom", Err: err}
	}
	s.noteQueue(&e)
	began := s.peer.Begin(&e)
	var n int
	var from netip.AddrPort
	over := s.receiving()
	woken, err := s.blocking(ctx, true, func() (err error) {
		n, from, err = sysRecvFrom(s.fd, b)
		return err
	})
	over()
	n = max(n, 0)
	if err == nil && n > 0 {
		woken = false
	}
	e.N, e.Data, e.Remote = n, b[:n], addrString(from)
	s.endBlocking(ctx, &e, began, result(n, err), err, woken)
	if err != nil || woken {
		return n, from, &CallError{Call: "recvfrom", Err: s.wrap(ctx, err, woken)}
	}
	return n, from, nil
}

// Local and Remote return the socket's addresses as the trace shows them
// ("" when not known yet).
func (s *Socket) Local() string  { return s.local }
func (s *Socket) Remote() string { return s.remote }
