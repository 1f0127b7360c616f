package wsmanager_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ssotkit/ssot/internal/testkit/memconn"
	"github.com/ssotkit/ssot/wsmanager"
)

// benchFactory serves users×perUser in-memory connections that discard what
// they are sent, and returns the factory and the peers once all are ready.
// With batch, the connections implement wsmanager.BatchConn.
func benchFactory(b *testing.B, opts wsmanager.Options, users, perUser int, batch bool) (*wsmanager.Factory, []*memconn.Conn) {
	b.Helper()
	var ready sync.WaitGroup
	ready.Add(users * perUser)
	opts.Logger = quietLogger()
	opts.OnConnect = func(c *wsmanager.Connection) {
		// Counted once the machine is operational, which is when Serve
		// starts the writer.
		c.Machine().OnTransition(func(t transition) {
			if t.To.IsOperational() && t.From.IsSetup() {
				ready.Done()
			}
		})
	}
	f, err := wsmanager.NewFactory(opts)
	if err != nil {
		b.Fatal(err)
	}
	peers := make([]*memconn.Conn, 0, users*perUser)
	for u := range users {
		m, err := f.Manager(wsmanager.UserContext{UserID: fmt.Sprint("user", u)})
		if err != nil {
			b.Fatal(err)
		}
		for range perUser {
			p := memconn.New(memconn.Options{Discard: true})
			peers = append(peers, p)
			var tr wsmanager.Conn = p // a DeadlineConn: batches, one deadline each
			if !batch {
				tr = memconn.NewLegacy(p) // a first-edition Conn: one Write each
			}
			go m.Serve(context.Background(), tr, echo())
		}
	}
	ready.Wait()
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := f.Close(ctx); err != nil {
			b.Error(err)
		}
	})
	return f, peers
}

// BenchmarkConnectionSend measures Connection.Send, the enqueue every
// fan-out performs once per connection, while the connection's writer
// drains the queue into a discarding in-memory Conn.
func BenchmarkConnectionSend(b *testing.B) {
	f, peers := benchFactory(b, wsmanager.Options{OnFull: wsmanager.DropNewest, QueueSize: 1 << 16}, 1, 1, true)
	m, _ := f.Manager(wsmanager.UserContext{UserID: "user0"})
	c := m.Connections()[0]
	msg := []byte(`{"type":"delta","text":"hello"}`)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = c.Send(ctx, msg)
	}
	_ = peers
}

// BenchmarkFanOut broadcasts one message to 10,000 in-memory connections
// (1,000 users with 10 connections each) per operation and waits, at the
// end, until every connection's writer has written every message. The
// connections implement DeadlineConn, as the contrib transports do, so a
// writer that finds several messages waiting hands them over in one call.
// It reports deliveries/s: messages written, summed over connections, per
// second of wall time, senders and writers sharing the machine's cores,
// and alloc-B/conn: bytes allocated per connection per fan-out (B/op over
// the 10,000 connections, writers included). For the memory an idle
// connection holds, see BenchmarkIdleConnectionMemory.
func BenchmarkFanOut(b *testing.B) { benchFanOut(b, true) }

// BenchmarkFanOutWriteEach is BenchmarkFanOut over first-edition Conns,
// which implement neither DeadlineConn nor BatchConn: one Write per
// message, and one context per batch the writer takes.
func BenchmarkFanOutWriteEach(b *testing.B) { benchFanOut(b, false) }

func benchFanOut(b *testing.B, batch bool) {
	const users, perUser = 1000, 10
	f, peers := benchFactory(b, wsmanager.Options{QueueSize: 1 << 12, OnFull: wsmanager.DropNewest}, users, perUser, batch)
	msg := []byte(`{"type":"delta","text":"hello"}`)
	ctx := context.Background()
	r := runDeliveries(b, f, peers, 0, func() {
		if got := f.Broadcast(ctx, msg, nil); got != users*perUser {
			b.Fatalf("Broadcast reached %d connections, want %d", got, users*perUser)
		}
	})
	b.ReportMetric(r.perSecond(), "deliveries/s")
	b.ReportMetric(float64(r.dropped), "drops")
	b.ReportMetric(float64(r.allocBytes)/float64(r.ops*users*perUser), "alloc-B/conn")
}

// deliveryRun is what one timed run of a fan-out benchmark did: ops
// operations, the messages the peers were written and the Factory dropped,
// the time until
// every peer had all its messages, what the run allocated, and the write
// calls the peers took.
type deliveryRun struct {
	ops                int
	written, dropped   uint64
	elapsed            time.Duration
	allocs, allocBytes uint64
	calls              int
}

func (r deliveryRun) perSecond() float64 { return float64(r.written) / r.elapsed.Seconds() }

// runDeliveries times op in b.Loop, where each op queues one message to
// every peer of f, until every peer has been written first (what it had
// before the run) plus one message per op.
func runDeliveries(b *testing.B, f *wsmanager.Factory, peers []*memconn.Conn, first int, op func()) deliveryRun {
	// Counted at the peers, not from Stats: a writer adds to
	// Stats.MessagesWritten when it parks, which may be after the peers
	// have everything.
	count := func() (msgs, calls int) {
		for _, p := range peers {
			msgs += p.Count()
			calls += p.Calls()
		}
		return msgs, calls
	}
	before := f.Stats()
	writtenBefore, callsBefore := count()
	var memBefore, memAfter runtime.MemStats
	runtime.ReadMemStats(&memBefore)
	b.ReportAllocs()
	n := 0
	start := time.Now()
	for b.Loop() {
		op()
		n++
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, p := range peers {
		p.WaitWritten(ctx, first+n)
	}
	elapsed := time.Since(start)
	runtime.ReadMemStats(&memAfter)
	written, calls := count()
	return deliveryRun{
		ops:        n,
		written:    uint64(written - writtenBefore),
		dropped:    f.Stats().MessagesDropped - before.MessagesDropped,
		elapsed:    elapsed,
		allocs:     memAfter.Mallocs - memBefore.Mallocs,
		allocBytes: memAfter.TotalAlloc - memBefore.TotalAlloc,
		calls:      calls - callsBefore,
	}
}

// BenchmarkManagerLookup measures Factory.Manager for existing managers from
// parallel goroutines: the get half of get-or-create, which every
// connection and many sends perform.
func BenchmarkManagerLookup(b *testing.B) {
	f, err := wsmanager.NewFactory(wsmanager.Options{Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = f.Close(context.Background()) })
	ucs := make([]wsmanager.UserContext, 1024)
	for i := range ucs {
		ucs[i] = wsmanager.UserContext{UserID: fmt.Sprint("user", i), ThreadID: "main"}
		if _, err := f.Manager(ucs[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := f.Manager(ucs[i&1023]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkIdleConnectionMemory reports the memory the library holds per
// idle connection, in B/conn: the growth of live heap plus goroutine stacks
// (runtime.MemStats HeapAlloc+StackInuse after a GC) while 10,000
// connections are served and idle, minus the same measure for a baseline of
// 10,000 in-memory Conns each with a goroutine blocked in Read, which is
// what a transport and its HTTP handler goroutine cost without this
// package. The target is under 4 KiB. It allocates once per run, so run it
// with -benchtime=1x, a few times: the runtime sizes new goroutine stacks
// from the average it has seen so far, which moves both figures by a
// kilobyte or so from run to run.
func BenchmarkIdleConnectionMemory(b *testing.B) {
	const n = 10000
	for b.Loop() {
		baseline := measure(b, func() func() {
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			for range n {
				p := memconn.New(memconn.Options{})
				wg.Go(func() { _, _ = p.Read(ctx) })
			}
			return func() { cancel(); wg.Wait() }
		})
		served := measure(b, func() func() {
			f, _ := benchFactory(b, wsmanager.Options{}, n/10, 10, true)
			return func() { _ = f.Close(context.Background()) }
		})
		b.ReportMetric(float64(baseline)/n, "baseline-B/conn")
		b.ReportMetric(float64(served-baseline)/n, "B/conn")
	}
}

// measure returns how much HeapAlloc+StackInuse grew while the state built
// by setup was alive, and then tears it down.
func measure(b *testing.B, setup func() (teardown func())) int64 {
	b.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	teardown := setup()
	runtime.GC()
	runtime.ReadMemStats(&after)
	teardown()
	return int64(after.HeapAlloc+after.StackInuse) - int64(before.HeapAlloc+before.StackInuse)
}

// BenchmarkSendToUserHistory sends one message to each of 1,000 users with
// 10 in-memory connections each (10,000 deliveries per operation), with
// per-user history off and on, so the two sub-benchmarks show what history
// costs a fan-out: a position, one framing and one kept copy per message,
// shared by the user's connections. It reports deliveries/s and
// allocations per message sent (per user, per operation).
func BenchmarkSendToUserHistory(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("history=%v", on), func(b *testing.B) {
			const users, perUser = 1000, 10
			opts := wsmanager.Options{QueueSize: 1 << 12, OnFull: wsmanager.DropNewest}
			if on {
				opts.History = wsmanager.HistoryOptions{Messages: 64}
			}
			f, peers := benchFactory(b, opts, users, perUser, true)
			ids := make([]string, users)
			for u := range ids {
				ids[u] = fmt.Sprint("user", u)
			}
			msg := []byte(`{"type":"delta","text":"hello"}`)
			ctx := context.Background()
			// Every connection has its reset frame written before timing.
			for _, p := range peers {
				p.WaitWritten(ctx, 0)
			}
			first := 0
			if on {
				first = 1 // the reset frame each connection got
			}
			r := runDeliveries(b, f, peers, first, func() {
				for _, id := range ids {
					if got, _ := f.SendToUser(ctx, id, msg); got != perUser {
						b.Fatalf("SendToUser reached %d connections, want %d", got, perUser)
					}
				}
			})
			b.ReportMetric(r.perSecond(), "deliveries/s")
			b.ReportMetric(float64(r.allocs)/float64(r.ops*users), "allocs/msg")
			// How many messages a writer found waiting each time it wrote:
			// the fewer, the more writer wake-ups each delivery costs.
			b.ReportMetric(float64(r.written)/float64(r.calls), "msgs/write")
		})
	}
}

// BenchmarkReplay10k measures one client resuming after it missed 10,000
// messages: ReserveResume fills its queue from the history, Serve delivers
// them to a batching in-memory connection, and the operation ends when the
// last is written.
func BenchmarkReplay10k(b *testing.B) {
	const missed = 10000
	f, err := wsmanager.NewFactory(wsmanager.Options{Logger: quietLogger(), History: wsmanager.HistoryOptions{Messages: missed, Bytes: 64 << 20}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = f.Close(context.Background()) })
	ctx := context.Background()
	uc := wsmanager.UserContext{UserID: "u"}
	msg := []byte(`{"type":"delta","text":"hello"}`)
	// A node keeps history only for users it holds a Manager for.
	if _, err := f.Manager(uc); err != nil {
		b.Fatal(err)
	}
	for range missed {
		if _, err := f.SendToUser(ctx, "u", msg); err != nil {
			b.Fatal(err)
		}
	}
	var epoch uint64
	{
		probe, err := f.ReserveResume(ctx, uc, wsmanager.Position{})
		if err != nil {
			b.Fatal(err)
		}
		peer := memconn.New(memconn.Options{})
		go func() { _ = probe.Serve(peer, echo()) }()
		peer.WaitWritten(ctx, 1)
		pos, err := wsmanager.ParsePosition(string(peer.Written()[0]))
		if err != nil {
			b.Fatal(err)
		}
		epoch = pos.Epoch
		peer.PeerCloseCode(1000, "")
	}
	after := wsmanager.Position{Epoch: epoch, Seq: 0}
	b.ReportAllocs()
	for b.Loop() {
		res, err := f.ReserveResume(ctx, uc, after)
		if err != nil {
			b.Fatal(err)
		}
		peer := memconn.New(memconn.Options{Discard: true})
		done := make(chan error, 1)
		go func() { done <- res.Serve(memconn.Batch{Conn: peer}, echo()) }()
		if got := peer.WaitWritten(ctx, missed); got < missed {
			b.Fatalf("%d of %d replayed", got, missed)
		}
		peer.PeerCloseCode(1000, "")
		<-done
	}
	if st := f.Stats(); st.ResumeResets != 0 {
		b.Fatalf("%d resets: the history did not hold the missed messages", st.ResumeResets)
	}
}

// BenchmarkIdlePushConnectionMemory measures what the package holds per
// idle connection of a PushConn (a readiness-driven transport, such as
// contrib/nbiows) served with Reservation.Go from a context that cannot
// end, as EndpointOptions.Detach serves it, each the one connection of its
// own user: the growth of live heap plus goroutine stacks while 10,000
// such connections are served, minus the same growth for 10,000 bare
// test transports. No goroutine is held by any of them.
func BenchmarkIdlePushConnectionMemory(b *testing.B) {
	const n = 10000
	for b.Loop() {
		baseline := measure(b, func() func() {
			conns := make([]*pushConn, n)
			for i := range conns {
				conns[i] = newPushConn()
			}
			return func() { clear(conns) }
		})
		goroutines := 0
		served := measure(b, func() func() {
			f, err := wsmanager.NewFactory(wsmanager.Options{Logger: quietLogger()})
			if err != nil {
				b.Fatal(err)
			}
			before := runtime.NumGoroutine()
			conns := make([]*pushConn, n)
			for i := range conns {
				res, err := f.Reserve(context.Background(), wsmanager.UserContext{UserID: fmt.Sprint("user", i)})
				if err != nil {
					b.Fatal(err)
				}
				conns[i] = newPushConn()
				if err := res.Go(conns[i], echo()); err != nil {
					b.Fatal(err)
				}
			}
			goroutines = runtime.NumGoroutine() - before
			return func() { _ = f.Close(context.Background()) }
		})
		b.ReportMetric(float64(served-baseline)/n, "B/conn")
		b.ReportMetric(float64(goroutines), "goroutines")
	}
}
