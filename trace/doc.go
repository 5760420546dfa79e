// Package trace records the socket lifecycle as it happens.
//
// A traced socket call (see package [github.com/socklab/socklab/trace/sock])
// emits two [Event] values: a [Begin] event just before the real syscall is
// issued and an [End] event just after it returned. A [Tracer] stamps every
// event with a sequence number from one atomic counter shared by all peers
// and with the time since the trace started, then hands it to a [Sink].
//
// Sinks render events: [NewTextSink] prints one human line per event (in
// colour if asked), [NewJSONSink] writes JSON Lines (schema in
// docs/trace-format.md), a [Recorder] keeps them in memory for tests, and
// [Multi] fans out to several sinks. Sinks are called concurrently from every
// peer and never touch sockets. [Async] puts a queue in front of a sink, so
// that a slow terminal does not hold the traced calls.
//
// Steps are numbered as the classic 11-step lesson plan numbers them (see
// [Steps]): the number depends on the peer's role, the operation and, for
// connect and accept, on whether the call has returned.
//
// Because the peers run concurrently, only orders that causality guarantees
// can be asserted: a cause's Begin is recorded before its syscall is issued
// and an effect's End after its syscall returned, so cause.Begin < effect.End
// always holds, while cause.End < effect.End does not. [CheckOrder] checks
// such [Rule] values against recorded events.
package trace
