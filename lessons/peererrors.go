package lessons

import (
	"errors"
	"fmt"
	"net/netip"
)

// ErrPeerClosed is wrapped by the error of a peer whose partner closed the
// connection before the exchange was over; ErrClosedBeforeSending and
// ErrClosedWithoutReply say when.
var (
	ErrPeerClosed          = errors.New("the peer closed the connection")
	ErrClosedBeforeSending = fmt.Errorf("%w before sending anything", ErrPeerClosed)
	ErrClosedWithoutReply  = said(fmt.Errorf("%w without replying", ErrPeerClosed), "err.closed_without_reply", "hint.closed_without_reply")
)

// ErrReplyUndelivered is the error of a server whose reply reached a
// client that had closed its socket: the client's kernel answered with
// RST, and nobody read the reply.
var ErrReplyUndelivered = said(errors.New("the reply was not delivered: the client had closed its connection, and its kernel answered with RST"), "err.reply_undelivered", "hint.reply_undelivered")

// A ClosedEarlyError says that a client of the server at Server closed
// the connection before sending anything. It wraps ErrClosedBeforeSending.
type ClosedEarlyError struct{ Server netip.AddrPort }

func (e *ClosedEarlyError) Error() string { return ErrClosedBeforeSending.Error() }

func (e *ClosedEarlyError) Unwrap() error { return ErrClosedBeforeSending }

// exchangeError is an error of one client's exchange, after accept: in
// Forever mode, the server survives it.
type exchangeError struct{ err error }

func (e *exchangeError) Error() string { return e.err.Error() }

func (e *exchangeError) Unwrap() error { return e.err }
