package main

import (
	"fmt"
	"strings"
)

// The peer the idle targets are set for, the peer its fan-out is measured
// against, and the targets.
const (
	idleTitle     = "Idle connections"
	idlePeer      = "ssot-nbio"
	idleRival     = wsPeer
	idleRSSPerCon = 4 << 10 // bytes of server RSS per connection
	// idleGoroutinesPerProc and idleGoroutinesBase bound the server's
	// goroutines with every client connected: so many per GOMAXPROCS
	// (the engine's pollers and the workers delivering at a time), plus
	// the base, the harness server's own.
	idleGoroutinesPerProc = 4
	idleGoroutinesBase    = 16
)

// idleFanOutClients are the fan-out runs, by clients, in which idlePeer
// must deliver at least idleRival's messages/s.
func idleFanOutClients() []int { return []int{2000, 19000} }

// idleRun is one idle run: every peer with the same clients, of which the
// same number idle.
type idleRun struct{ clients, idle int }

// writeIdle writes the idle-connection tables and verdicts, and the fan-out
// of idlePeer against idleRival, and reports whether any verdict missed its
// target.
func writeIdle(w *strings.Builder, ws []WSResult) (missed bool) {
	fmt.Fprintf(w, "## %s\n\n", idleTitle)
	fmt.Fprint(w, idleMethod)
	fmt.Fprintf(w, "Targets, for `%s`: at most %d KiB of server RSS per connection; at most %d × GOMAXPROCS + %d goroutines with every client connected and nothing being sent, so that no writer runs (%d: the harness server's own goroutines, 5 to 7 before any client connects for every peer but centrifuge, with room for those net/http and the runtime start and end); at least `%s`'s messages/s in the fan-out runs of %s clients.\n\n",
		idlePeer, idleRSSPerCon>>10, idleGoroutinesPerProc, idleGoroutinesBase, idleGoroutinesBase, idleRival, joinInts(idleFanOutClients()))

	var runs []idleRun
	byRun := map[idleRun][]WSResult{}
	for _, r := range ws {
		if r.Idle == 0 {
			continue
		}
		k := idleRun{r.Clients, r.Idle}
		if byRun[k] == nil {
			runs = append(runs, k)
		}
		byRun[k] = append(byRun[k], r)
	}
	fanOut := idleFanOutVerdicts(ws)
	if len(runs) == 0 && len(fanOut) == 0 {
		fmt.Fprintf(w, "Not measured in this run.\n\n")
		return false
	}

	if len(runs) > 0 {
		fmt.Fprintf(w, "| clients | idle | peer | delivered / expected | active msgs/s | p50 ms | p99 ms | RSS/conn KiB | heap/conn KiB | stack/conn KiB | free heap/conn KiB | goroutines before → connected | kernel socket KiB/conn | note |\n")
		fmt.Fprintf(w, "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
		for _, k := range runs {
			for _, r := range byRun[k] {
				fmt.Fprintf(w, "| %d | %d | %s | %d / %d | %s | %s | %s | %.1f | %.1f | %.1f | %.1f | %d → %d | %.2f | %s |\n",
					r.Clients, r.Idle, r.Peer, r.Delivered, r.Expected, num(r.MsgsPerSec), num(r.P50Micros/1e3), num(r.P99Micros/1e3),
					r.RSSPerConn/1024, r.HeapPerConn/1024, r.StackPerConn/1024, r.HeapFreePerConn/1024,
					r.GoroutinesBefore, r.Goroutines, r.SocketMemPerConn/1024, r.Error)
			}
		}
		fmt.Fprintln(w)
	}

	for _, k := range runs {
		for _, v := range idleVerdicts(byRun[k]) {
			missed = missed || !v.ok
			fmt.Fprintf(w, "- idle, %d clients, %d idle, %s: target %s (%s)\n", k.clients, k.idle, v.target, verdictMark(v.ok), v.detail)
		}
	}
	for _, v := range fanOut {
		missed = missed || !v.ok
		fmt.Fprintf(w, "- %s: target %s (%s)\n", v.target, verdictMark(v.ok), v.detail)
	}
	fmt.Fprintln(w)
	if s := idleSplit(runs, byRun); s != "" {
		fmt.Fprint(w, s)
	}
	fmt.Fprint(w, idleBytes)
	return missed
}

// idleVerdicts judges idlePeer in one idle run; idlePeer not measured is
// one miss, so that a run without it cannot read as meeting its targets.
func idleVerdicts(g []WSResult) []wsVerdict {
	var s WSResult
	found := false
	for _, r := range g {
		if r.Peer == idlePeer {
			s, found = r, true
		}
	}
	if !found {
		return []wsVerdict{{target: "every target", detail: idlePeer + " not measured"}}
	}
	if s.Error != "" {
		return []wsVerdict{{target: "every target", detail: s.Error}}
	}
	var vs []wsVerdict
	if s.Delivered < s.Expected {
		vs = append(vs, wsVerdict{target: "every message delivered", detail: fmt.Sprintf("%d of %d", s.Delivered, s.Expected)})
	}
	bound := idleGoroutinesPerProc*s.Procs + idleGoroutinesBase
	vs = append(vs,
		wsVerdict{
			target: fmt.Sprintf("≤ %d KiB RSS per connection", idleRSSPerCon>>10),
			ok:     s.RSSPerConn > 0 && s.RSSPerConn <= idleRSSPerCon,
			detail: fmt.Sprintf("%.1f KiB", s.RSSPerConn/1024),
		},
		wsVerdict{
			target: fmt.Sprintf("≤ %d × GOMAXPROCS + %d goroutines", idleGoroutinesPerProc, idleGoroutinesBase),
			ok:     s.Procs > 0 && s.Goroutines <= bound,
			detail: fmt.Sprintf("%d with %d clients connected, %d before any; at most %d with GOMAXPROCS %d", s.Goroutines, s.Clients, s.GoroutinesBefore, bound, s.Procs),
		})
	return vs
}

// idleFanOutVerdicts judges idlePeer's messages/s against idleRival's in
// the fan-out and scale runs of idleFanOutClients that were made. A run
// without idlePeer, or one where it failed, is a miss; one without
// idleRival is left out.
func idleFanOutVerdicts(ws []WSResult) []wsVerdict {
	var vs []wsVerdict
	for _, n := range idleFanOutClients() {
		for _, k := range []string{wsFanOutLabel, wsScaleLabel} {
			var s, rival *WSResult
			for i, r := range ws {
				if r.Idle != 0 || r.Clients != n || runOf(r).kind != k {
					continue
				}
				switch r.Peer {
				case idlePeer:
					s = &ws[i]
				case idleRival:
					rival = &ws[i]
				}
			}
			if rival == nil {
				continue
			}
			v := wsVerdict{target: fmt.Sprintf("%s, %d clients, ≥ 1.00× %s's messages/s", k, n, idleRival)}
			switch {
			case s == nil:
				v.detail = idlePeer + " not measured"
			case s.Error != "" || s.MsgsPerSec <= 0 || rival.MsgsPerSec <= 0:
				v.detail = orDefault(s.Error, "no messages/s")
			default:
				ratio := s.MsgsPerSec / rival.MsgsPerSec
				v.ok = ratio >= 1 && s.Delivered >= s.Expected
				v.detail = fmt.Sprintf("%.2f×; p50 %s against %s ms, p99 %s against %s ms", ratio,
					num(s.P50Micros/1e3), num(rival.P50Micros/1e3), num(s.P99Micros/1e3), num(rival.P99Micros/1e3))
			}
			vs = append(vs, v)
		}
	}
	return vs
}

// idleSplit says, for idlePeer in each idle run, what its RSS per
// connection is made of.
func idleSplit(runs []idleRun, byRun map[idleRun][]WSResult) string {
	var b strings.Builder
	for _, k := range runs {
		for _, r := range byRun[k] {
			if r.Peer != idlePeer || r.Error != "" || r.RSSPerConn <= 0 {
				continue
			}
			rest := r.RSSPerConn - r.HeapPerConn - r.StackPerConn
			fmt.Fprintf(&b, "With %d clients, %d idle, `%s`'s %.1f KiB of RSS per connection are %.1f KiB of Go heap in use, %.1f KiB of goroutine stacks and %.1f KiB besides; before it was returned to the system, the runtime also held %.1f KiB of free heap per connection; the kernel's TCP buffers grew by %.2f KiB per connection.\n\n",
				r.Clients, r.Idle, idlePeer, r.RSSPerConn/1024, r.HeapPerConn/1024, r.StackPerConn/1024, rest/1024, r.HeapFreePerConn/1024, r.SocketMemPerConn/1024)
		}
	}
	return b.String()
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, " and ")
}

// idleMethod says how the idle runs measure.
const idleMethod = "The same harness, with most clients idle (`-idle N`): an idle client connects with a query parameter that marks it so, then reads, answering pings, and never sends (centrifuge's sends its connect command, without which centrifuge closes it, and subscribes to nothing); the other clients, the active ones, receive every broadcast, which every peer sends to them alone in its own way: wsmanager gives an idle client's user a ThreadID of its own that Broadcast's filter leaves out, melody marks its session with a key its BroadcastFilter leaves out, the reference, raw and gorilla hub peers keep the idle connections in a set of their own, and centrifuge publishes to the channel only the active clients subscribe to. An idle client that receives a message fails the run. " +
	"`ssot-nbio` is wsmanager over `contrib/nbiows`, on lesismal/nbio: a connection is read by the engine's poller and served with no goroutine of its own while idle. " +
	"Memory per connection is over all the clients, idle and active: RSS as in the broadcast runs, after the free heap is returned to the system; the Go heap in use and goroutine stacks in use, and the heap the runtime holds free without having returned it to the system, from `runtime.MemStats`, all after a GC and before that return, so the free heap is not in the RSS figure; kernel socket memory is the growth of the TCP `mem` pages of `/proc/net/sockstat`, which count the buffers of every TCP socket of the network namespace, the clients' ends included, and which no RSS shows. " +
	"Goroutines are the server's `runtime.NumGoroutine()` before any client connects and with every client connected. " +
	"Messages/s and latency are the active clients'.\n\n"

// idleBytes says what the bytes per connection of idlePeer are, from a
// heap profile of its server with every client connected.
const idleBytes = "What the bytes are, from the heap profile of an `ssot-nbio` server with 19,000 clients connected, 18,000 of them idle (`go run ./cmd/wsbench -clients 19000 -idle 18000 -messages 20 -peers ssot-nbio -profile DIR` in `bench/`, then `go tool pprof -sample_index=inuse_space -top DIR/ssot-nbio-19000-idle18000-heap.pprof`; the profile samples, so each figure is to within a tenth of a KiB), about 3.0 KiB per connection in all: " +
	"about 1.0 KiB is wsmanager's, as its BenchmarkIdlePushConnectionMemory measures it exactly (the Connection; its state machine and the machine's four set-up transitions; the user's Manager and its place in the Factory's map; the connection's id and the handlers' context); " +
	"about 1.4 KiB is the transport's: nbiows's Conn with its write lock, frame writer and ping timer, about 1.0 KiB, and nbio's Conn for the socket with the accepted socket's two addresses, about 0.45 KiB; " +
	"about 0.5 KiB is net/http's: the request's contexts (cancellable ones for the connection and the request, and the values the server puts there), which stay alive because the Connection's context keeps the request's values (context.WithoutCancel keeps its parent), as EndpointOptions.Detach documents. " +
	"The Go heap in use is more than the profile's objects: each is rounded up to its size class, and spans are part empty. " +
	"No goroutine stack is left per connection. " +
	"The free heap the runtime holds is what the handshakes used and let go (net/http's buffers for each request, the stacks of the goroutines that served them), which the runtime would return to the system over the following minutes rather than at once; the harness has it returned before reading RSS. " +
	"The kernel's share does not show in RSS: an idle connection's socket holds no buffered bytes, so the TCP buffer memory barely moves, but each connection is a socket and one descriptor in the kernel.\n\n"

// missIdle explains the idle targets the runs made while developing
// missed; the report prints it only when this run missed one.
const missIdle = "**" + idleTitle + ".** What the runs on this machine show.\n" +
	"  *Memory.* `ssot-nbio` holds no goroutine and no stack per idle connection. At 19,000 clients,\n" +
	"  18,000 idle, its RSS per connection measured 3.5–3.8 KiB across runs, of which about 3.3 KiB is\n" +
	"  Go heap in use: by the heap profile about 1.0 KiB of wsmanager's, 1.4 KiB of the transport's\n" +
	"  (nbiows's Conn, nbio's and the socket's addresses) and 0.5 KiB of net/http's request contexts\n" +
	"  that the Connection's context keeps, each object rounded up to its size class (see the\n" +
	"  section's last paragraph). The margin under 4 KiB is thin: what is left is mostly the\n" +
	"  transport's, and net/http's contexts, which only a Connection context that did not keep the\n" +
	"  request's would let go.\n" +
	"  *Fan-out.* `ssot-nbio` against `ssot-gobwas` moves from run to run by more than the target's\n" +
	"  margin: 0.95–1.80× its messages/s at 2,000 clients and 1.18–1.48× at 10,000 and 19,000 in the\n" +
	"  last runs on this machine (`-clients 2000 -peers ssot-nbio,ssot-gobwas`). Both spend about half\n" +
	"  of the server's time in write system calls from wsmanager's writers; nbiows adds a copy of each\n" +
	"  batch into one buffer (nbio writes one buffer at a time and keeps a copy of what the socket\n" +
	"  cannot take) and the wait for the engine's report of what it wrote."
