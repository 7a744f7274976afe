// Package connlimit caps the connections one listener holds open, so that
// a client opening connections faster than they close (or holding
// thousands of idle keep-alive ones) cannot take every file descriptor of
// the process: the other listener, the store and the log files keep
// theirs.
//
// A listener at its cap makes room for a new connection by closing the
// connection that has been idle longest: one waiting for its next request
// on keep-alive, or one that has sent nothing yet since it was accepted.
// Only when no connection is idle is the new one refused (closed at once).
// A connection answering a request is never closed to make room.
//
// The server serving the listener says which connections are idle: an
// http.Server through its ConnState hook (Listener.ConnState), any other
// server by calling Conn.Active and Conn.Idle.
//
// # Caveats
//
// A connection whose next request has just arrived but whose server has
// not yet marked it active can still be closed as idle, as net/http's own
// Shutdown may close it: clients retry such a request on a new connection.
// The descriptor of a connection closed to make room is released when the
// goroutine reading it wakes up, a moment later, so the process may hold a
// few more descriptors than the cap for a moment.
package connlimit

import (
	"net"
	"net/http"
	"sync"
)

// Listener is a net.Listener that holds at most Max connections open.
type Listener struct {
	net.Listener
	max int

	mu                  sync.Mutex
	open, idle          int
	head, tail          *Conn // idle connections, longest idle first
	refused, idleClosed int64
}

// Stats counts what a Listener did.
type Stats struct {
	Open       int   // connections open now
	Idle       int   // of them, waiting for a request
	Max        int   // the cap
	Refused    int64 // connections closed at once: the cap was reached and none was idle
	IdleClosed int64 // idle connections closed to make room for a new one
}

// New caps ln at n open connections (at least 1).
func New(ln net.Listener, n int) *Listener {
	return &Listener{Listener: ln, max: max(n, 1)}
}

// Stats returns the listener's counts so far.
func (l *Listener) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return Stats{Open: l.open, Idle: l.idle, Max: l.max, Refused: l.refused, IdleClosed: l.idleClosed}
}

// Accept waits for the next connection the cap lets in. A new connection
// counts as idle until its server marks it active.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if lc := l.admit(c); lc != nil {
			return lc, nil
		}
	}
}

// admit wraps c, closing the longest idle connection if the listener is
// at its cap, or closes c and returns nil when none is idle.
func (l *Listener) admit(c net.Conn) *Conn {
	l.mu.Lock()
	var victim *Conn
	if l.open >= l.max {
		victim = l.head
		if victim == nil {
			l.refused++
			l.mu.Unlock()
			c.Close()
			return nil
		}
		l.unlink(victim)
		victim.state = stateClosed
		l.open--
		l.idleClosed++
	}
	lc := &Conn{Conn: c, l: l}
	l.open++
	l.push(lc)
	l.mu.Unlock()
	if victim != nil {
		victim.Conn.Close()
	}
	return lc
}

// ConnState is an http.Server ConnState hook that tells the listener
// which of its connections are idle. Chain it when the server already has
// a hook.
func (l *Listener) ConnState(nc net.Conn, s http.ConnState) {
	c := unwrap(nc)
	if c == nil || c.l != l {
		return
	}
	switch s {
	case http.StateActive, http.StateHijacked:
		c.Active()
	case http.StateIdle:
		c.Idle()
	}
}

// unwrap finds the *Conn under nc, through wrappers that expose the
// connection they wrap by a NetConn method (as *tls.Conn does).
func unwrap(nc net.Conn) *Conn {
	for range 8 {
		switch c := nc.(type) {
		case *Conn:
			return c
		case interface{ NetConn() net.Conn }:
			nc = c.NetConn()
		default:
			return nil
		}
	}
	return nil
}

// Connection states.
const (
	stateIdle = iota
	stateActive
	stateClosed
)

// Conn is a connection of a Listener.
type Conn struct {
	net.Conn
	l          *Listener
	state      int // guarded by l.mu
	prev, next *Conn
}

// Active marks c as answering a request: it is not closed to make room.
// It reports false when c was already closed.
func (c *Conn) Active() bool {
	c.l.mu.Lock()
	defer c.l.mu.Unlock()
	switch c.state {
	case stateIdle:
		c.l.unlink(c)
		c.state = stateActive
	case stateClosed:
		return false
	}
	return true
}

// Idle marks c as waiting for its next request: the listener may close it
// to make room for a new connection, the longest idle first.
func (c *Conn) Idle() {
	c.l.mu.Lock()
	defer c.l.mu.Unlock()
	if c.state == stateActive {
		c.l.push(c)
	}
}

// Close closes the connection and frees its place under the cap.
func (c *Conn) Close() error {
	c.l.mu.Lock()
	if c.state != stateClosed {
		if c.state == stateIdle {
			c.l.unlink(c)
		}
		c.state = stateClosed
		c.l.open--
	}
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// NetConn returns the connection c wraps.
func (c *Conn) NetConn() net.Conn { return c.Conn }

// push appends c to the idle list and marks it idle; l.mu is held.
func (l *Listener) push(c *Conn) {
	c.state = stateIdle
	l.idle++
	c.prev, c.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = c
	} else {
		l.head = c
	}
	l.tail = c
}

// unlink removes c from the idle list; l.mu is held.
func (l *Listener) unlink(c *Conn) {
	l.idle--
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		l.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		l.tail = c.prev
	}
	c.prev, c.next = nil, nil
}
