package connlimit

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// serve runs an http.Server on a capped loopback listener; the handler
// answers "ok", or waits for release on /block.
func serve(t *testing.T, max int, release chan struct{}) (*Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := New(ln, max)
	srv := &http.Server{ConnState: l.ConnState, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/block" {
			<-release
		}
		io.WriteString(w, "ok")
	})}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve = %v", err)
		}
	})
	return l, ln.Addr().String()
}

type client struct {
	net.Conn
	br *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return &client{c, bufio.NewReader(c)}
}

// get sends a request for path and reads its answer.
func (c *client) get(t *testing.T, path string) {
	t.Helper()
	c.send(t, path)
	c.answer(t)
}

func (c *client) send(t *testing.T, path string) {
	t.Helper()
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: a\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
}

func (c *client) answer(t *testing.T) {
	t.Helper()
	res, err := http.ReadResponse(c.br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || string(body) != "ok" {
		t.Fatalf("answer %d %q", res.StatusCode, body)
	}
}

// closed reports whether the server closed c (EOF or reset, not a timeout).
func (c *client) closed(t *testing.T) bool {
	t.Helper()
	_, err := c.br.ReadByte()
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return err != nil
}

// waitStats waits until the listener's stats satisfy ok: the server marks
// connections idle after it wrote their answer, asynchronously to the
// client.
func waitStats(t *testing.T, l *Listener, ok func(Stats) bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(l.Stats()); {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v", l.Stats())
		}
		time.Sleep(time.Millisecond)
	}
}

// At the cap, a new connection closes the one idle longest, and is served.
func TestListener_ClosesLongestIdleFirst(t *testing.T) {
	l, addr := serve(t, 3, nil)
	var cs []*client
	for i := range 3 {
		c := dial(t, addr)
		c.get(t, "/")
		cs = append(cs, c)
		waitStats(t, l, func(s Stats) bool { return s.Idle == i+1 })
	}
	cs[1].get(t, "/") // now cs[0] has been idle longest, then cs[2]
	waitStats(t, l, func(s Stats) bool { return s.Open == 3 && s.Idle == 3 })
	fresh := dial(t, addr)
	fresh.get(t, "/")
	if !cs[0].closed(t) {
		t.Error("the longest idle connection is still open")
	}
	cs[1].get(t, "/")
	cs[2].get(t, "/")
	waitStats(t, l, func(s Stats) bool { return s == Stats{Open: 3, Idle: 3, Max: 3, IdleClosed: 1} })
}

// A connection that has sent nothing yet is idle: it makes room too.
func TestListener_SilentConnectionIsIdle(t *testing.T) {
	l, addr := serve(t, 1, nil)
	silent := dial(t, addr)
	waitStats(t, l, func(s Stats) bool { return s.Open == 1 })
	dial(t, addr).get(t, "/")
	if !silent.closed(t) {
		t.Error("the silent connection is still open")
	}
	if s := l.Stats(); s.IdleClosed != 1 || s.Refused != 0 {
		t.Errorf("stats %+v", s)
	}
}

// When every connection is answering a request, a new one is refused;
// none of the busy ones is cut, and once they are idle again a new
// connection gets in.
func TestListener_RefusesWhenNoneIsIdle(t *testing.T) {
	release := make(chan struct{})
	l, addr := serve(t, 2, release)
	busy := []*client{dial(t, addr), dial(t, addr)}
	for _, c := range busy {
		c.send(t, "/block")
	}
	waitStats(t, l, func(s Stats) bool { return s.Open == 2 && s.Idle == 0 })
	refused := dial(t, addr)
	refused.send(t, "/")
	if !refused.closed(t) {
		t.Error("a connection over the cap was let in")
	}
	close(release)
	for _, c := range busy {
		c.answer(t)
	}
	waitStats(t, l, func(s Stats) bool { return s.Idle == 2 })
	dial(t, addr).get(t, "/")
	if s := l.Stats(); s.Refused != 1 || s.IdleClosed != 1 || s.Open != 2 {
		t.Errorf("stats %+v, want 1 refused, 1 idle closed, 2 open", s)
	}
}

// Every connection closed, by either side, gives its place back.
func TestListener_CloseFreesThePlace(t *testing.T) {
	l, addr := serve(t, 2, nil)
	for range 10 {
		c := dial(t, addr)
		c.get(t, "/")
		c.Close()
		waitStats(t, l, func(s Stats) bool { return s.Open == 0 })
	}
	if s := l.Stats(); s.IdleClosed != 0 || s.Refused != 0 {
		t.Errorf("stats %+v: closed connections were counted as open", s)
	}
}

func TestUnwrap(t *testing.T) {
	l := New(nil, 1)
	c := &Conn{l: l}
	if unwrap(wrapped{c}) != c || unwrap(c) != c || unwrap(&net.TCPConn{}) != nil {
		t.Error("unwrap does not find the connection")
	}
}

type wrapped struct{ net.Conn }

func (w wrapped) NetConn() net.Conn { return w.Conn }
