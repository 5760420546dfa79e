package lessons

import (
	"strconv"

	"github.com/socklab/socklab/trace/i18n"
)

// The lessons' errors say themselves in the catalogue's words
// (i18n.Sayer): what went wrong, and what to try.

// Say says that the server did not answer the handshake in time.
func (e *ConnectTimeoutError) Say(l i18n.Lang) string {
	return l.T("line.hint", l.T("err.connect_timeout", e.Addr, e.Timeout), l.T("hint.connect_timeout"))
}

// Say says that the peer sent nothing in time.
func (e *ReadTimeoutError) Say(l i18n.Lang) string {
	return l.T("line.hint", l.T("err.read_timeout", e.Timeout), l.T("hint.read_timeout"))
}

// Say says that a client closed without a word; the hint's nc line names
// the address the server listens on (socklab server's default,
// 127.0.0.1:1234, if it is not known).
func (e *ClosedEarlyError) Say(l i18n.Lang) string {
	host, port := "127.0.0.1", "1234"
	if a := e.Server; a.IsValid() {
		host, port = a.Addr().String(), strconv.Itoa(int(a.Port()))
		if a.Addr().IsUnspecified() {
			host = "127.0.0.1"
		}
	}
	return l.T("line.hint", l.T("err.closed_before_sending"), l.T("hint.closed_before_sending", host, port))
}

// said gives err a sentence and a hint, by their catalogue keys: a
// sentinel error that says itself.
func said(err error, key, hint string) error { return &saidError{err, key, hint} }

type saidError struct {
	err       error
	key, hint string
}

func (e *saidError) Error() string { return e.err.Error() }

func (e *saidError) Unwrap() error { return e.err }

// Say says the error's sentence and its hint.
func (e *saidError) Say(l i18n.Lang) string {
	return l.T("line.hint", l.T(e.key), l.T(e.hint))
}
