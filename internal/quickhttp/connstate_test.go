package quickhttp

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/certstatus/certstatus/internal/connlimit"
)

// ConnState reports connections as net/http's hook does, so that a
// connlimit listener at its cap closes the idle one — on the quick path or
// handed to net/http — to let a new client in, and never the one being
// answered.
func TestServer_ConnStateLetsTheCapCloseIdleConnections(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var l *connlimit.Listener
	ts := startServer(t, func(s *Server) {
		answer := s.Answer
		s.Answer = func(dst []byte, req Request) ([]byte, bool) {
			if req.Target == "/quick/slow" {
				close(entered)
				<-release
			}
			return answer(dst, req)
		}
	})
	// startServer already serves a plain listener: serve a capped one too.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l = connlimit.New(ln, 3)
	srv := &Server{Answer: ts.Answer, Fallback: &http.Server{Handler: ts.Fallback.Handler, ConnState: l.ConnState},
		ConnState: l.ConnState, IdleTimeout: time.Minute, ReadHeaderTimeout: time.Minute}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve = %v", err)
		}
	})
	ts2 := &testServer{Server: srv, addr: ln.Addr().String()}
	exchange := func(c net.Conn, br *bufio.Reader, raw string) {
		t.Helper()
		io.WriteString(c, raw)
		readResponses(t, br, 1)
	}
	waitIdle := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); l.Stats().Idle != n; {
			if time.Now().After(deadline) {
				t.Fatalf("stats %+v, want %d idle", l.Stats(), n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	// The server marks a connection idle after the client has its
	// answer: wait for it, so that quick is the one idle longest.
	quick := ts2.dial(t)
	qbr := bufio.NewReader(quick)
	exchange(quick, qbr, "GET /quick/1 HTTP/1.1\r\nHost: a\r\n\r\n")
	waitIdle(1)
	handed := ts2.dial(t)
	hbr := bufio.NewReader(handed)
	exchange(handed, hbr, "GET /other HTTP/1.1\r\nHost: a\r\n\r\n")
	waitIdle(2)
	busy := ts2.dial(t)
	bbr := bufio.NewReader(busy)
	io.WriteString(busy, "GET /quick/slow HTTP/1.1\r\nHost: a\r\n\r\n")
	<-entered
	for i, c := range []*bufio.Reader{qbr, hbr} {
		fresh := ts2.dial(t)
		exchange(fresh, bufio.NewReader(fresh), "GET /quick/fresh HTTP/1.1\r\nHost: a\r\n\r\n")
		var ne net.Error
		if _, err := c.ReadByte(); err == nil || errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("idle connection %d was not closed to make room: %v", i, err)
		}
	}
	close(release)
	if got := readResponses(t, bbr, 1); got[0] != "200 quick GET /quick/slow" {
		t.Errorf("the busy connection: %q", got)
	}
	if st := l.Stats(); st.IdleClosed != 2 || st.Refused != 0 {
		t.Errorf("stats %+v, want 2 idle closed", st)
	}
}
