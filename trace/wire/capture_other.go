//go:build !linux

package wire

import (
	"time"

	"github.com/socklab/socklab/trace"
)

// A Capture reads the run's packets; on this system it cannot.
type Capture struct{}

// Open fails with ErrUnsupported: the wire view reads packets through
// Linux's AF_PACKET (macOS would need its BPF devices).
func Open(*trace.Tracer) (*Capture, error) { return nil, ErrUnsupported }

// Observe does nothing here. See [trace.Wire].
func (*Capture) Observe(*trace.Event) {}

// Until does nothing here. See [trace.Wire].
func (*Capture) Until(time.Duration, func(trace.Event)) {}

// Close does nothing here.
func (*Capture) Close() (Summary, error) { return Summary{}, nil }
