// Package quickhttp serves, on a plain TCP listener, the HTTP/1.1 requests
// one function can answer whole from bytes it already has (the pre-signed
// OCSP answers), answers other plain requests with an http.Handler in
// place, and hands every connection that sends anything else to a
// net/http Server, which then serves that connection to its end.
//
// It exists for speed: net/http spends 13–19 µs of a core per request on
// this machine before a handler runs, more than reading a pre-signed
// answer and writing it to the socket take together. The parser takes
// only the plainest requests — "GET target HTTP/1.1" or "POST target
// HTTP/1.1" with Content-Length, CRLF line ends, one Host, valid header
// names and values, no Transfer-Encoding, Expect, Upgrade, If-None-Match
// or a Connection other than keep-alive, headers and body within one 4 KiB
// buffer; FuzzReadRequest holds it to net/http's own parser. A request it
// does not take is never half-read: the connection goes to net/http with
// every byte still unread, so net/http sees exactly what the client sent,
// and answers it (and any error in it) as it would have without this
// package.
package quickhttp

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Request is a request the quick path may answer.
type Request struct {
	Get    bool   // GET; otherwise POST
	Target string // the request-target as sent (escaped)
	Body   []byte // POST body; valid only during the call
}

// Answer appends the whole HTTP response to req (status line, headers,
// body) to dst, or returns ok false, having written and counted nothing,
// for a request net/http must answer.
type Answer func(dst []byte, req Request) (resp []byte, ok bool)

// Server serves connections from a listener with Answer, handing the
// connections Answer does not take to Fallback.
type Server struct {
	Answer Answer
	// Handler, when set, answers in place the requests Answer declines
	// for which Local (if set) is true: plain requests with the whole body
	// in hand, the response written with Content-Length, as net/http
	// would. The connection stays here: a client mixing requests Answer
	// takes with others (OCSP with and without nonces) keeps the quick
	// path for the former. Others go to Fallback with their connection.
	Handler  http.Handler
	Local    func(Request) bool
	Fallback *http.Server
	// Timeouts, as net/http's of the same names: waiting for the next
	// request on a kept-alive connection, reading a request's header and
	// whole request from its first byte, writing a response.
	IdleTimeout, ReadHeaderTimeout, ReadTimeout, WriteTimeout time.Duration
	// ConnState, when set, is called as net/http's hook of the same name
	// is: StateNew when a connection is accepted, StateActive when a
	// request has been read, StateIdle when its answer is written,
	// StateClosed when the connection ends here. A connection handed to
	// Fallback is then reported by Fallback's own hook, with a connection
	// whose NetConn method returns the one reported here.
	ConnState func(net.Conn, http.ConnState)

	mu                      sync.Mutex
	ln                      net.Listener
	conns                   map[*conn]struct{}
	closing                 atomic.Bool
	wg                      sync.WaitGroup
	handoffs                *chanListener
	ctx                     context.Context // of the requests Handler serves; ends with Close
	cancel                  context.CancelFunc
	quick, local, handedOff atomic.Int64 // requests Answer and Handler answered, connections handed off
}

// Stats counts what the server did since it started.
type Stats struct {
	Quick     int64 // requests Answer answered
	Local     int64 // requests Handler answered in place
	HandedOff int64 // connections handed to Fallback
}

// Stats returns the server's counts so far.
func (s *Server) Stats() Stats {
	return Stats{Quick: s.quick.Load(), Local: s.local.Load(), HandedOff: s.handedOff.Load()}
}

// bufSize bounds what the quick path reads of one request: headers and
// body. OCSP requests are a few hundred bytes; larger ones go to net/http.
const bufSize = 4096

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = http.ErrServerClosed

// Serve accepts connections on ln until Shutdown or Close, and runs
// Fallback on the connections handed to it. It always returns a non-nil
// error: ErrServerClosed after Shutdown or Close.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.ln = ln
	s.conns = map[*conn]struct{}{}
	s.handoffs = &chanListener{addr: ln.Addr(), c: make(chan net.Conn), done: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.mu.Unlock()
	fallbackDone := make(chan error, 1)
	go func() {
		err := s.Fallback.Serve(s.handoffs)
		s.handoffs.close() // nothing more can be handed off
		fallbackDone <- err
	}()
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				<-fallbackDone
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				// Out of descriptors or a transient failure: back off as
				// net/http does instead of spinning.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			s.handoffs.close()
			<-fallbackDone
			return err
		}
		delay = 0
		cn := &conn{c: c}
		s.mu.Lock()
		if s.closing.Load() {
			s.mu.Unlock()
			c.Close()
			continue
		}
		s.conns[cn] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		s.setState(c, http.StateNew)
		go s.serve(cn)
	}
}

// Shutdown stops accepting, closes idle connections, waits for the ones
// answering a request to finish it, and shuts Fallback down with ctx. When
// ctx ends first it closes what remains and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stop()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	for {
		s.closeIdle()
		select {
		case <-done:
			s.handoffs.close()
			s.mu.Lock()
			if s.cancel != nil {
				s.cancel()
			}
			s.mu.Unlock()
			return s.Fallback.Shutdown(ctx)
		case <-ctx.Done():
			s.closeAll()
			s.handoffs.close()
			s.Fallback.Close()
			s.wg.Wait() // their connections are closed: they end at once
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Close closes the listener and every connection at once, and returns
// when no request is being answered any more.
func (s *Server) Close() error {
	s.stop()
	s.closeAll()
	s.handoffs.close()
	err := s.Fallback.Close()
	s.wg.Wait()
	return err
}

func (s *Server) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Swap(true) || s.ln == nil {
		if s.handoffs == nil {
			s.handoffs = &chanListener{c: make(chan net.Conn), done: make(chan struct{})}
		}
		return
	}
	s.ln.Close()
}

func (s *Server) closeIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.state.CompareAndSwap(stateIdle, stateClosed) {
			c.c.Close()
		}
	}
}

func (s *Server) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		s.cancel()
	}
	for c := range s.conns {
		c.state.Store(stateClosed)
		c.c.Close()
	}
}

// Connection states: waiting for a request, answering one, closed by
// Shutdown or Close.
const (
	stateIdle int32 = iota
	stateActive
	stateClosed
)

type conn struct {
	c     net.Conn
	state atomic.Int32
}

func (s *Server) setState(c net.Conn, st http.ConnState) {
	if s.ConnState != nil {
		s.ConnState(c, st)
	}
}

func (s *Server) done(c *conn, handedOff *bool) {
	if !*handedOff {
		s.setState(c.c, http.StateClosed)
	}
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// serve answers requests on c until one is not for the quick path, which
// hands c over, or c ends.
func (s *Server) serve(c *conn) {
	handedOff := false
	defer s.done(c, &handedOff)
	defer func() {
		// As net/http does: a panic while answering ends the connection,
		// logged, not the process.
		if p := recover(); p != nil {
			logf := log.Printf
			if s.Fallback.ErrorLog != nil {
				logf = s.Fallback.ErrorLog.Printf
			}
			logf("quickhttp: panic serving %v: %v\n%s", c.c.RemoteAddr(), p, debug.Stack())
			c.c.Close()
		}
	}()
	br := bufio.NewReaderSize(c.c, bufSize)
	var out []byte
	// Timeouts as net/http's: a new connection has ReadHeaderTimeout for
	// its first request from its accept; a kept-alive one waits
	// IdleTimeout for the first four bytes of the next, then has
	// ReadHeaderTimeout for its header and ReadTimeout for the whole
	// request from then on; zero ones fall back to ReadTimeout.
	idleTimeout, headerTimeout := cmp.Or(s.IdleTimeout, s.ReadTimeout), cmp.Or(s.ReadHeaderTimeout, s.ReadTimeout)
	// Deadlines cost a runtime timer update each: the idle and write ones
	// are moved at most every eighth of their timeout, at most once a
	// second (a connection idles for 7/8 of IdleTimeout at least), the
	// request ones only when a request is not already whole in the
	// buffer, as it nearly always is.
	var idleSet, writeSet time.Time
	idleEvery, writeEvery := refresh(idleTimeout), refresh(s.WriteTimeout)
	start := time.Now() // of the request being read
	c.c.SetReadDeadline(deadlineFrom(start, headerTimeout))
	first, lastPOST := true, false
	for served := 1; ; served++ {
		if s.closing.Load() {
			c.c.Close()
			return
		}
		if !first {
			now := time.Now()
			if br.Buffered() < 4 && now.Sub(idleSet) >= idleEvery {
				c.c.SetReadDeadline(deadlineFrom(now, idleTimeout))
				idleSet = now
			}
			// As net/http: the header's timeout starts once four bytes
			// of the next request are in.
			if _, err := br.Peek(4); err != nil {
				c.c.Close()
				return
			}
			start = time.Now()
		}
		if lastPOST {
			// As net/http: up to four CR or LF after a POST body are an
			// old client's, not the next request's; they count against
			// the next request's header timeout.
			peek, _ := br.Peek(4)
			br.Discard(leadingCRLF(peek))
		}
		deadline := time.Time{}
		wait := func(d time.Duration) {
			if dl := deadlineFrom(start, d); !dl.Equal(deadline) {
				c.c.SetReadDeadline(dl)
				deadline = dl
			}
			idleSet = time.Time{}
		}
		// The connection stays idle, closable by Shutdown, until its
		// request is read, as net/http's does.
		req, head, body, ok, err := readRequest(br, func() { wait(headerTimeout) })
		if err != nil {
			// Timed out, cut or closed mid-header, or closed by Shutdown:
			// answered as net/http's would have been.
			if got, _ := br.Peek(br.Buffered()); !s.closing.Load() && len(got) > 0 {
				if reply := headerError(got, err); reply != nil {
					c.c.SetWriteDeadline(deadlineFrom(time.Now(), s.WriteTimeout))
					c.c.Write(reply)
				}
			}
			c.c.Close()
			return
		}
		n := head + body
		if ok && body > 0 {
			if br.Buffered() < n {
				wait(s.ReadTimeout)
			}
			var b []byte
			if b, err = br.Peek(n); err != nil {
				// Timed out or cut mid-body: closed, as net/http's
				// would have been.
				c.c.Close()
				return
			}
			req.Body = b[head:n]
		}
		if !c.state.CompareAndSwap(stateIdle, stateActive) {
			return // Shutdown closed it
		}
		s.setState(c.c, http.StateActive)
		first = false
		ok0 := ok
		if ok {
			out, ok = s.Answer(out[:0], req)
			if ok {
				s.quick.Add(1)
			}
		}
		closeAfter := false
		if !ok && ok0 && s.Handler != nil && (s.Local == nil || s.Local(req)) {
			header, _ := br.Peek(head)
			out, closeAfter, ok = s.serveLocal(out[:0], c.c, req, header)
		}
		if !ok {
			handedOff = true
			s.handoff(c, br)
			return
		}
		br.Discard(n)
		lastPOST = !req.Get
		if s.closing.Load() {
			// As net/http: an answer written while shutting down says the
			// connection ends with it.
			out, closeAfter = connectionClose(out), true
		}
		now := time.Now() // the write deadline counts from the request
		if now.Sub(writeSet) >= writeEvery {
			c.c.SetWriteDeadline(deadlineFrom(now, s.WriteTimeout))
			writeSet = now
		}
		if _, err := c.c.Write(out); err != nil || closeAfter {
			c.c.Close()
			return
		}
		if cap(out) > 4*bufSize {
			out = nil
		}
		if !c.state.CompareAndSwap(stateActive, stateIdle) {
			c.c.Close()
			return
		}
		s.setState(c.c, http.StateIdle)
	}
}

// headerError returns what net/http's server writes when reading a
// request header fails with err after the client sent got (which holds no
// whole header): its 400 Bad Request when what came is malformed as far
// as it goes, nothing when the read failed at a line's end (a timeout, a
// reset). It asks http.ReadRequest, as net/http's server does, so the
// two cannot differ.
func headerError(got []byte, err error) []byte {
	_, rerr := http.ReadRequest(bufio.NewReader(io.MultiReader(bytes.NewReader(got), errReader{err})))
	if rerr == nil || commonNetReadError(rerr) {
		return nil
	}
	return []byte(badRequest)
}

// badRequest is net/http's answer to a request it cannot read.
const badRequest = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request"

// commonNetReadError is net/http's isCommonNetReadError: the errors its
// server closes a connection on without an answer.
func commonNetReadError(err error) bool {
	if err == io.EOF {
		return true
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return true
	}
	if oe, ok := err.(*net.OpError); ok && oe.Op == "read" {
		return true
	}
	return false
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// connectionClose adds "Connection: close" to the response in b, after
// its status line, unless it has one.
func connectionClose(b []byte) []byte {
	line, end := bytes.Index(b, crlf), bytes.Index(b, crlfcrlf)
	if line < 0 || end < 0 || bytes.Contains(b[:end+2], []byte("\r\nConnection: close\r\n")) {
		return b
	}
	at := line + len(crlf)
	const h = "Connection: close\r\n"
	b = append(b, h...)
	copy(b[at+len(h):], b[at:len(b)-len(h)])
	copy(b[at:], h)
	return b
}

// leadingCRLF counts the CR and LF bytes b starts with.
func leadingCRLF(b []byte) int {
	n := 0
	for n < len(b) && (b[n] == '\r' || b[n] == '\n') {
		n++
	}
	return n
}
