package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"
	"github.com/olahol/melody"
)

// peer is one broadcast server under test.
type peer interface {
	// handle upgrades one client, an idle one if isIdle(r).
	handle(w http.ResponseWriter, r *http.Request)
	// broadcast sends msg to every connected client but the idle ones.
	broadcast(msg []byte)
	// conns is how many clients are registered, idle ones included.
	conns() int
	close()
}

// queueSize is the per-connection buffer of every buffering peer (melody's
// MessageBufferSize, wsmanager's QueueSize, and in bytes wsmanager's
// QueueBytes and centrifuge's ClientQueueMaxSize, for 16 KiB messages):
// equal for all, and larger than
// the slow-client run's burst, so that run measures whether one stuck
// client holds the others back, not each peer's overflow policy.
const queueSize = 512

// peerSpec is one peer as the driver knows it.
type peerSpec struct {
	name string
	// wire is how the clients speak to it (see wireFor).
	wire string
	make func() (peer, error)
}

// peers lists every peer built in, in the order of a run.
func peers() []peerSpec {
	plain := func(name string, make func() (peer, error)) peerSpec {
		return peerSpec{name: name, wire: plainWireName, make: make}
	}
	return []peerSpec{
		plain("ssot-gobwas", newSSOTGobwasPeer),
		plain("ssot-nbio", newSSOTNbioPeer),
		plain("ssot", newSSOTPeer),
		plain("ssot-gorilla", newSSOTGorillaPeer),
		plain("reference", newRefPeer),
		plain("raw", newRawPeer),
		plain("gorilla", func() (peer, error) { return newHub(), nil }),
		plain("melody", func() (peer, error) { return newMelodyPeer(), nil }),
		{name: "centrifuge", wire: centrifugeWireName, make: newCentrifugePeer},
	}
}

func peerNames() []string {
	var names []string
	for _, p := range peers() {
		names = append(names, p.name)
	}
	return names
}

func lookupPeer(name string) (peerSpec, bool) {
	for _, p := range peers() {
		if p.name == name {
			return p, true
		}
	}
	return peerSpec{}, false
}

// runServer serves one peer on 127.0.0.1 and prints its address. It exits
// when its standard input closes (the driver is done) or after timeout.
func runServer(name string, timeout time.Duration) error {
	spec, ok := lookupPeer(name)
	if !ok {
		return fmt.Errorf("unknown peer %q", name)
	}
	p, err := spec.make()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", p.handle)
	mux.HandleFunc("/stats", func(w http.ResponseWriter, _ *http.Request) {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		// RSS is read once the free heap is returned to the system, as the
		// runtime's scavenger would return it within minutes: the steady
		// state, the same for every peer, not what the last burst of
		// allocation (the handshakes) left behind.
		debug.FreeOSMemory()
		_ = json.NewEncoder(w).Encode(serverStats{
			Conns: p.conns(), RSS: rss(), Heap: int64(ms.HeapInuse), Stack: int64(ms.StackInuse), Writes: writeCalls(),
			HeapFree:   int64(ms.HeapIdle - ms.HeapReleased),
			Goroutines: runtime.NumGoroutine(), Procs: runtime.GOMAXPROCS(0), SocketMem: tcpSocketMemory(),
		})
	})
	mux.HandleFunc("/broadcast", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		size, _ := strconv.Atoi(r.URL.Query().Get("size"))
		for range n {
			msg := make([]byte, max(size, minSize))
			stamp(msg, time.Now())
			p.broadcast(msg)
		}
	})
	if path := os.Getenv(profileEnv); path != "" {
		handleProfile(mux, path)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fmt.Println(ln.Addr().String())
	done := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin)); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
	}
	p.close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(ctx)
}

// heapProfilePath is where a server whose CPU profile goes to path writes
// its heap profile: the same name, ending in -heap.pprof.
func heapProfilePath(path string) string {
	return strings.TrimSuffix(path, ".pprof") + "-heap.pprof"
}

// profileEnv names the variable that holds the file a server writes the
// CPU profile of its broadcast to.
const profileEnv = "WSBENCH_PROFILE"

// handleProfile serves /profile/start and /profile/stop, which start and
// stop a CPU profile written to path, and /profile/heap, which writes a
// heap profile (after a GC) next to it, named as heapProfilePath says.
func handleProfile(mux *http.ServeMux, path string) {
	mux.HandleFunc("/profile/heap", func(w http.ResponseWriter, _ *http.Request) {
		f, err := os.Create(heapProfilePath(path))
		if err == nil {
			runtime.GC()
			err = errors.Join(pprof.WriteHeapProfile(f), f.Close())
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	var stop func()
	mux.HandleFunc("/profile/start", func(w http.ResponseWriter, _ *http.Request) {
		var err error
		if stop, err = startProfile(path); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("/profile/stop", func(http.ResponseWriter, *http.Request) {
		if stop != nil {
			stop()
		}
	})
}

// startProfile starts a CPU profile written to path, and returns the
// function that stops it. With no path it does nothing.
func startProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }, nil
}

type serverStats struct {
	Conns int   `json:"conns"`
	RSS   int64 `json:"rss"`   // read after the free heap is returned to the system
	Heap  int64 `json:"heap"`  // runtime.MemStats.HeapInuse
	Stack int64 `json:"stack"` // runtime.MemStats.StackInuse
	// HeapFree is heap memory the runtime held free after the GC and had
	// not yet returned to the system (HeapIdle less HeapReleased):
	// resident, but in no object, until the handler returns it with
	// debug.FreeOSMemory before it reads RSS, which therefore leaves it
	// out.
	HeapFree int64 `json:"heap_free"`
	Writes   int64 `json:"writes"`
	// Goroutines counts the process's goroutines, Procs is its GOMAXPROCS.
	Goroutines int `json:"goroutines"`
	Procs      int `json:"procs"`
	// SocketMem is what tcpSocketMemory reads.
	SocketMem int64 `json:"socket_mem"`
}

// writeCalls is how many write system calls (write, writev and the like)
// this process has made.
func writeCalls() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "syscw: "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

// tcpSocketMemory is the memory, in bytes, the kernel holds for the
// buffers of every TCP socket of this network namespace ("TCP: … mem" in
// /proc/net/sockstat, in pages), both ends of a loopback connection
// included: memory no process's RSS shows.
func tcpSocketMemory() int64 {
	b, err := os.ReadFile("/proc/net/sockstat")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		rest, ok := strings.CutPrefix(line, "TCP:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		for i := 0; i+1 < len(f); i += 2 {
			if f[i] == "mem" {
				n, _ := strconv.ParseInt(f[i+1], 10, 64)
				return n * int64(os.Getpagesize())
			}
		}
	}
	return 0
}

// rss is the resident set size of this process in bytes.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, res int64
	if _, err := fmt.Sscan(string(b), &size, &res); err != nil {
		return 0
	}
	return res * int64(os.Getpagesize())
}

// rawPeer is the floor: no manager, no queues, one loop writing every
// message to every connection in turn, as a first version would. Idle
// clients are a set of their own.
type rawPeer struct {
	mu        sync.Mutex
	set, idle map[*websocket.Conn]struct{}
}

func newRawPeer() (peer, error) {
	return &rawPeer{set: map[*websocket.Conn]struct{}{}, idle: map[*websocket.Conn]struct{}{}}, nil
}

func (p *rawPeer) handle(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	set := p.set
	if isIdle(r) {
		set = p.idle
	}
	p.mu.Lock()
	set[c] = struct{}{}
	p.mu.Unlock()
	<-c.CloseRead(context.Background()).Done()
	p.drop(c)
}

func (p *rawPeer) drop(c *websocket.Conn) {
	p.mu.Lock()
	delete(p.set, c)
	delete(p.idle, c)
	p.mu.Unlock()
	_ = c.CloseNow()
}

func (p *rawPeer) broadcast(msg []byte) {
	p.mu.Lock()
	cs := make([]*websocket.Conn, 0, len(p.set))
	for c := range p.set {
		cs = append(cs, c)
	}
	p.mu.Unlock()
	for _, c := range cs {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := c.Write(ctx, websocket.MessageBinary, msg); err != nil {
			p.drop(c)
		}
		cancel()
	}
}

func (p *rawPeer) conns() int { p.mu.Lock(); defer p.mu.Unlock(); return len(p.set) + len(p.idle) }

func (p *rawPeer) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.set {
		_ = c.CloseNow()
	}
	for c := range p.idle {
		_ = c.CloseNow()
	}
}

// hub is the gorilla/websocket chat example's pattern: one hub goroutine,
// a buffered send channel and a write pump per client, a client whose
// channel is full is dropped. The hub keeps idle clients in a map of
// their own, which broadcasts pass by.
type hub struct {
	register, unregister chan *hubClient
	bcast                chan []byte
	n                    atomic.Int64
	quit                 chan struct{}
	up                   gorilla.Upgrader
}

type hubClient struct {
	conn *gorilla.Conn
	send chan []byte
	idle bool
}

func newHub() *hub {
	h := &hub{register: make(chan *hubClient), unregister: make(chan *hubClient), bcast: make(chan []byte), quit: make(chan struct{})}
	go h.run()
	return h
}

func (h *hub) run() {
	clients, idle := map[*hubClient]bool{}, map[*hubClient]bool{}
	for {
		select {
		case c := <-h.register:
			if c.idle {
				idle[c] = true
			} else {
				clients[c] = true
			}
			h.n.Add(1)
		case c := <-h.unregister:
			if clients[c] || idle[c] {
				delete(clients, c)
				delete(idle, c)
				close(c.send)
				h.n.Add(-1)
			}
		case m := <-h.bcast:
			for c := range clients {
				select {
				case c.send <- m:
				default:
					close(c.send)
					delete(clients, c)
					h.n.Add(-1)
				}
			}
		case <-h.quit:
			for c := range clients {
				_ = c.conn.Close()
			}
			for c := range idle {
				_ = c.conn.Close()
			}
			return
		}
	}
}

func (h *hub) handle(w http.ResponseWriter, r *http.Request) {
	conn, err := h.up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &hubClient{conn: conn, send: make(chan []byte, queueSize), idle: isIdle(r)}
	select {
	case h.register <- c:
	case <-h.quit:
		_ = conn.Close()
		return
	}
	go func() {
		defer conn.Close()
		for m := range c.send {
			_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := conn.WriteMessage(gorilla.BinaryMessage, m); err != nil {
				return
			}
		}
		_ = conn.WriteMessage(gorilla.CloseMessage, []byte{})
	}()
	for {
		if _, _, err := conn.ReadMessage(); err != nil {
			break
		}
	}
	select {
	case h.unregister <- c:
	case <-h.quit:
	}
}

func (h *hub) broadcast(msg []byte) {
	select {
	case h.bcast <- msg:
	case <-h.quit:
	}
}

func (h *hub) conns() int { return int(h.n.Load()) }
func (h *hub) close()     { close(h.quit) }

// melodyPeer marks each idle session with the key idleParam, which its
// broadcast's filter leaves out.
type melodyPeer struct{ m *melody.Melody }

func newMelodyPeer() *melodyPeer {
	m := melody.New()
	m.Config.MessageBufferSize = queueSize
	return &melodyPeer{m: m}
}

func (p *melodyPeer) handle(w http.ResponseWriter, r *http.Request) {
	var keys map[string]any
	if isIdle(r) {
		keys = map[string]any{idleParam: true}
	}
	_ = p.m.HandleRequestWithKeys(w, r, keys)
}

func (p *melodyPeer) broadcast(msg []byte) {
	active := func(s *melody.Session) bool { _, idle := s.Get(idleParam); return !idle }
	if err := p.m.BroadcastBinaryFilter(msg, active); err != nil && !errors.Is(err, melody.ErrClosed) {
		fmt.Fprintln(os.Stderr, "melody:", err)
	}
}
func (p *melodyPeer) conns() int { return p.m.Len() }
func (p *melodyPeer) close()     { _ = p.m.Close() }
