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
//
// # A person in the loop
//
// A [Conductor] (--step, --delay) holds a peer while a person thinks. The
// bounds a run keeps exist so that a machine never waits for ever; they
// must not run out while a person is the slow part, or the pace of a class
// would change the story. Both ways the design notes name are used, each
// where it fits:
//
//   - Bounds count only machine time. Every bound a lesson keeps (a
//     connect's, a read's, the server's close-wait) is made with
//     [Peer.Within] on the tracer's [Stopwatch], which the conductor holds
//     while its pace runs: a minute's pause uses up none of a 2 s bound.
//     This keeps the bounds where no script exists (a lesson paced as its
//     calls come, `socklab server` and `client` under --step), and it can
//     be tested with a fake [Clock] that plays the minute at once.
//   - Divergence is detected instead of waited for. Where the conductor
//     knows the script, a peer asking for another call's turn when its own
//     entry is due will never make that call: the run stops at once with a
//     [DivergenceError]. Where peers wait for each other outside any
//     script (both read), [Tracer.WatchStalls] sees every live peer waiting
//     with no event for [StallAfter] of machine time, and stops the run
//     with a [StallError] that names who waits in what.
package trace
