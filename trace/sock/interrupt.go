package sock

import (
	"context"
	"time"

	"github.com/socklab/socklab/trace"
)

// Interrupting a blocked call: a context that is done shuts the socket
// down, which wakes the call, and the call's error says why.

// blocking runs call, a blocking syscall on s, so that ctx can interrupt it:
// when ctx is done, the socket is shut down, which wakes accept, connect and
// read on Linux. woken reports that the shutdown happened while the call ran.
// With retryEINTR, a call a signal interrupted before it did anything is made
// again.
func (s *Socket) blocking(ctx context.Context, retryEINTR bool, call func() error) (woken bool, err error) {
	returned := make(chan struct{})
	finished := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(finished)
		s.interrupt(returned)
	})
	for {
		err = call()
		if !retryEINTR || !isEINTR(err) {
			break
		}
	}
	close(returned)
	if !stop() {
		// ctx is done: wait until the shutdown is over, so that it cannot
		// touch the descriptor after we return (and maybe close it).
		<-finished
		return true, err
	}
	return false, err
}

// interrupt shuts the socket down to wake a call blocked on it. The shutdown
// is traced like any other: it is a real syscall the trace must not hide.
// If the call has not yet entered the kernel (a connect not yet begun), the
// socket is not connected and shutdown fails with ENOTCONN without waking
// anything; then it is tried again, a few times, until the call has returned.
func (s *Socket) interrupt(returned <-chan struct{}) {
	delay := time.Millisecond
	for range 10 {
		e := s.event(trace.OpShutdown, "shutdown")
		e.Arg = ShutBoth.String()
		began := s.peer.Begin(&e)
		err := unixShutdown(s.fd, ShutBoth)
		s.end(&e, began, result(0, err), err)
		if !isENOTCONN(err) {
			return
		}
		select {
		case <-returned:
			return
		case <-time.After(delay):
			delay = min(2*delay, 100*time.Millisecond)
		}
	}
}

// endBlocking records the End of a blocking call, saying why it returned if
// the interrupt woke it.
func (s *Socket) endBlocking(ctx context.Context, e *trace.Event, began time.Time, ret int, err error, woken bool) {
	if woken {
		e.Interrupt = Reason(context.Cause(ctx))
	}
	s.end(e, began, ret, err)
}

// wrap returns the error a method returns for a call that failed with err
// (nil for a read woken with 0 bytes).
func (s *Socket) wrap(ctx context.Context, err error, woken bool) error {
	if woken {
		return interrupted(ctx, err)
	}
	return err
}

// interruptedError is the error of a call woken by an interrupt. The
// syscall's own error (EINVAL from accept, or none from a read that returned
// 0) stays inside.
type interruptedError struct {
	cause   error
	syscall error
}

func (e *interruptedError) Error() string {
	return causeTextOf(e.cause)
}

func (e *interruptedError) Unwrap() []error {
	errs := []error{ErrInterrupted, e.cause}
	if e.syscall != nil {
		errs = append(errs, e.syscall)
	}
	return errs
}

func interrupted(ctx context.Context, syscallErr error) error {
	return &interruptedError{cause: context.Cause(ctx), syscall: syscallErr}
}
