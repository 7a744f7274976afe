package quickhttp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/certstatus/certstatus/internal/syncbuf"
)

// testServer runs a Server whose Answer takes "GET /quick…" and a POST of
// body "quick", and whose fallback names itself in every answer.
type testServer struct {
	*Server
	addr    string
	quick   atomic.Int64
	served  chan error
	handled atomic.Int64
}

func startServer(t *testing.T, configure func(*Server)) *testServer {
	t.Helper()
	ts := &testServer{served: make(chan error, 1)}
	fallback := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.handled.Add(1)
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "fallback %s %s %s %q", r.Proto, r.Method, r.RequestURI, body)
	})}
	ts.Server = &Server{Fallback: fallback, IdleTimeout: 10 * time.Second, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second,
		Answer: func(dst []byte, req Request) ([]byte, bool) {
			var body string
			switch {
			case req.Get && strings.HasPrefix(req.Target, "/quick"):
				body = "quick GET " + req.Target
			case !req.Get && string(req.Body) == "quick":
				body = "quick POST " + req.Target
			default:
				return dst, false
			}
			ts.quick.Add(1)
			dst = append(dst, "HTTP/1.1 200 OK\r\nContent-Length: "...)
			dst = strconv.AppendInt(dst, int64(len(body)), 10)
			return append(append(dst, "\r\n\r\n"...), body...), true
		}}
	if configure != nil {
		configure(ts.Server)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = ln.Addr().String()
	go func() { ts.served <- ts.Serve(ln) }()
	t.Cleanup(func() {
		ts.Close()
		if err := <-ts.served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve = %v, want ErrServerClosed", err)
		}
	})
	return ts
}

// dial connects to the server, for at most 10 s; the connection is closed
// when the test ends.
func (ts *testServer) dial(t *testing.T) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// exchange writes raw to a new connection and reads n responses.
func (ts *testServer) exchange(t *testing.T, raw string, n int) []string {
	t.Helper()
	c := ts.dial(t)
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	return readResponses(t, bufio.NewReader(c), n)
}

func readResponses(t *testing.T, br *bufio.Reader, n int) []string {
	t.Helper()
	var out []string
	for range n {
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d of %d: %v (got %q)", len(out)+1, n, err, out)
		}
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%d %s", res.StatusCode, body))
	}
	return out
}

func TestServer_QuickRequestsOnOneConnection(t *testing.T) {
	ts := startServer(t, nil)
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	for i := range 20 {
		var res *http.Response
		var err error
		if i%2 == 0 {
			res, err = c.Get(fmt.Sprintf("http://%s/quick/%d", ts.addr, i))
		} else {
			res, err = c.Post("http://"+ts.addr+"/", "application/ocsp-request", strings.NewReader("quick"))
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		want := fmt.Sprintf("quick GET /quick/%d", i)
		if i%2 == 1 {
			want = "quick POST /"
		}
		if string(body) != want {
			t.Fatalf("request %d: %q, want %q", i, body, want)
		}
	}
	if ts.quick.Load() != 20 || ts.handled.Load() != 0 {
		t.Errorf("quick answers %d, fallback %d; want 20 and 0", ts.quick.Load(), ts.handled.Load())
	}
}

// Every request the quick path does not take reaches net/http exactly as
// sent, and net/http keeps the connection: the next request, even a quick
// one, is answered by it.
func TestServer_HandsOffEverythingElse(t *testing.T) {
	big := strings.Repeat("x", bufSize)
	for _, tc := range []struct {
		name, raw, want string
	}{
		{"declined GET", "GET /other HTTP/1.1\r\nHost: a\r\n\r\n", `200 fallback HTTP/1.1 GET /other ""`},
		{"declined POST", "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nother", `200 fallback HTTP/1.1 POST /x "other"`},
		{"PUT", "PUT /quick HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nquick", `200 fallback HTTP/1.1 PUT /quick "quick"`},
		{"HTTP/1.0", "GET /quick HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n", `200 fallback HTTP/1.0 GET /quick ""`},
		{"chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nquick\r\n0\r\n\r\n", `200 fallback HTTP/1.1 POST / "quick"`},
		{"expect", "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nquick", `100 `},
		{"if-none-match", "GET /quick HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"x\"\r\n\r\n", `200 fallback HTTP/1.1 GET /quick ""`},
		{"absolute target", "GET http://a/quick HTTP/1.1\r\nHost: a\r\n\r\n", `200 fallback HTTP/1.1 GET http://a/quick ""`},
		{"no host", "GET /quick HTTP/1.1\r\n\r\n", `400 400 Bad Request: missing required Host header`},
		{"two hosts", "GET /quick HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", `400 400 Bad Request`},
		{"two lengths", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nquick", `200 fallback HTTP/1.1 POST / "quick"`},
		{"bad length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nquick", `400 400 Bad Request`},
		{"space before colon", "GET /quick HTTP/1.1\r\nHost : a\r\n\r\n", `400 400 Bad Request: missing required Host header`},
		{"folded header", "GET /quick HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n", `200 fallback HTTP/1.1 GET /quick ""`},
		{"control character in a value", "GET /quick HTTP/1.1\r\nHost: a\r\nX: \x7f\r\n\r\n", `400 400 Bad Request`},
		{"control character in the target", "GET /quick\x01 HTTP/1.1\r\nHost: a\r\n\r\n", `400 400 Bad Request`},
		{"escaped target", "GET /quick%41 HTTP/1.1\r\nHost: a\r\n\r\n", `200 quick GET /quick%41`},
		{"bare LF", "GET /quick HTTP/1.1\nHost: a\n\n", `200 fallback HTTP/1.1 GET /quick ""`},
		{"header over the buffer", "GET /quick HTTP/1.1\r\nHost: a\r\nX: " + big + "\r\n\r\n", `200 fallback HTTP/1.1 GET /quick ""`},
		{"body over the buffer", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + strconv.Itoa(len(big)) + "\r\n\r\n" + big, `200 fallback HTTP/1.1 POST / "` + big + `"`},
		{"GET with a body", "GET /quick HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx", `200 fallback HTTP/1.1 GET /quick "x"`},
		{"connection close", "GET /quick HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", `200 fallback HTTP/1.1 GET /quick ""`},
		{"malformed host", "GET /quick HTTP/1.1\r\nHost: a b\r\n\r\n", `400 400 Bad Request: malformed Host header`},
		{"bad escape in the target", "GET /quick%zz HTTP/1.1\r\nHost: a\r\n\r\n", `400 400 Bad Request`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, nil)
			n := 1
			raw := tc.raw
			keep := !strings.Contains(tc.name, "close") && !strings.HasPrefix(tc.want, "400") && tc.name != "HTTP/1.0"
			if strings.HasPrefix(tc.want, "400") {
				raw += "GET /quick/never HTTP/1.1\r\nHost: a\r\n\r\n" // net/http closes first
			}
			if keep {
				raw += "GET /quick/next HTTP/1.1\r\nHost: a\r\n\r\n"
				n = 2
			}
			if tc.name == "expect" {
				n = 3 // 100 Continue, the answer, the next
			}
			got := ts.exchange(t, raw, n)
			if strings.TrimSpace(got[0]) != strings.TrimSpace(tc.want) {
				t.Errorf("got %q, want %q", got[0], tc.want)
			}
			quick := strings.Contains(tc.want, "quick GET")
			next := `200 fallback HTTP/1.1 GET /quick/next ""`
			if quick {
				next = `200 quick GET /quick/next`
			}
			if keep && got[n-1] != next {
				t.Errorf("next request on the connection: %q, want %q", got[n-1], next)
			}
			if !quick && ts.quick.Load() != 0 {
				t.Errorf("the quick path answered %d requests", ts.quick.Load())
			}
		})
	}
}

// HEAD is net/http's: its answer has no body, and the connection stays
// usable.
func TestServer_HEAD(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(t)
	io.WriteString(c, "HEAD /quick HTTP/1.1\r\nHost: a\r\n\r\nGET /quick/next HTTP/1.1\r\nHost: a\r\n\r\n")
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, &http.Request{Method: http.MethodHead})
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("HEAD: %v, %v", res, err)
	}
	if got := readResponses(t, br, 1); got[0] != `200 fallback HTTP/1.1 GET /quick/next ""` || ts.handled.Load() != 2 {
		t.Errorf("after HEAD: %q, net/http handled %d", got, ts.handled.Load())
	}
}

// Requests written back to back are answered in order; one the quick path
// does not take hands the rest of the connection, unread, to net/http.
func TestServer_Pipelined(t *testing.T) {
	ts := startServer(t, nil)
	raw := "GET /quick/1 HTTP/1.1\r\nHost: a\r\n\r\n" +
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nquick\r\n" + // an old client's CRLF, skipped as net/http does
		"GET /quick/3 HTTP/1.1\r\nHost: a\r\n\r\n" +
		"GET /slow HTTP/1.1\r\nHost: a\r\n\r\n" +
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nquick"
	got := ts.exchange(t, raw, 5)
	want := []string{"200 quick GET /quick/1", "200 quick POST /", "200 quick GET /quick/3",
		`200 fallback HTTP/1.1 GET /slow ""`, `200 fallback HTTP/1.1 POST / "quick"`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// A request that arrives a byte at a time is still read whole.
func TestServer_SlowClient(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(t)
	raw := "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nquick"
	for i := range len(raw) {
		c.Write([]byte{raw[i]})
		time.Sleep(time.Millisecond)
	}
	if got := readResponses(t, bufio.NewReader(c), 1); got[0] != "200 quick POST /" {
		t.Errorf("got %q", got)
	}
}

// The timeouts are net/http's: a new connection has ReadHeaderTimeout for
// its first request, a kept-alive one IdleTimeout for the next, a request
// ReadHeaderTimeout for its header and ReadTimeout for its body.
func TestServer_Timeouts(t *testing.T) {
	short, long := 50*time.Millisecond, 10*time.Second
	for _, tc := range []struct {
		name               string
		idle, header, read time.Duration
		raw                string
		answered           bool
	}{
		{"silent new connection", long, short, long, "", false},
		{"kept alive, then silent", short, long, long, "GET /quick HTTP/1.1\r\nHost: a\r\n\r\n", true},
		{"kept alive, then three bytes", short, long, long, "GET /quick HTTP/1.1\r\nHost: a\r\n\r\nGET", true},
		{"header cut at a line end", long, short, long, "GET /quick HTTP/1.1\r\nHost: a\r\n\r\nGET /quick HTTP/1.1\r\n", true},
		{"body cut short", long, long, short, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nqu", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, func(s *Server) { s.IdleTimeout, s.ReadHeaderTimeout, s.ReadTimeout = tc.idle, tc.header, tc.read })
			c := ts.dial(t)
			io.WriteString(c, tc.raw)
			br := bufio.NewReader(c)
			if tc.answered {
				readResponses(t, br, 1)
			}
			if _, err := br.ReadByte(); err != io.EOF {
				t.Errorf("read %v, want EOF once the timeout closes the connection", err)
			}
		})
	}
}

// A client that stops in the middle of a header, or drips bytes, gets
// what net/http's server sends it, after as long: the 400 Bad Request
// net/http writes for a header cut inside a line, nothing for one cut at
// a line's end; after a POST, at most four stray CR or LF, and the next
// request's header timeout runs from the first of its bytes, so one byte
// every little while cannot hold a connection. Each case runs against a
// bare net/http server and the quick server with the same timeouts.
func TestServer_HeaderTimeoutsLikeNetHTTP(t *testing.T) {
	const post = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nquick"
	for _, tc := range []struct {
		name, raw string
		drip      string // then written a byte every 20 ms until the server closes
	}{
		{"request line cut", "GET /qu", ""},
		{"header cut inside a line", "GET /quick HTTP/1.1\r\nHo", ""},
		{"header cut at a line end", "GET /quick HTTP/1.1\r\nHost: a\r\n", ""},
		{"second request cut inside a line", "GET /quick HTTP/1.1\r\nHost: a\r\n\r\nGET /quick HTTP/1.1\r\nHost: a\r\nX-", ""},
		{"malformed request line", "GET\r\n\r\n", ""},
		{"five CRs after a POST", post + "\r\r\r\r\rGET /quick HTTP/1.1\r\nHost: a\r\n\r\n", ""},
		{"four CRLF after a POST", post + "\r\n\r\nGET /quick HTTP/1.1\r\nHost: a\r\n\r\n", ""},
		{"CR dripped after a POST", post, "\r"},
		{"header dripped", "GET /quick HTTP/1.1\r\nHost: a\r\nX: ", "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			timeouts := func(s *http.Server) {
				s.ReadHeaderTimeout, s.ReadTimeout, s.IdleTimeout = 200*time.Millisecond, 5*time.Second, time.Second
			}
			want := transcript(t, startReference(t, timeouts), tc.raw, tc.drip)
			ts := startServer(t, func(s *Server) {
				ref := &http.Server{}
				timeouts(ref)
				s.ReadHeaderTimeout, s.ReadTimeout, s.IdleTimeout = ref.ReadHeaderTimeout, ref.ReadTimeout, ref.IdleTimeout
				timeouts(s.Fallback)
			})
			if got := transcript(t, ts.addr, tc.raw, tc.drip); got != want {
				t.Errorf("quick server:\n%s\nnet/http:\n%s", got, want)
			}
		})
	}
}

// startReference runs a bare net/http server that answers what the quick
// test server's Answer answers, with the same bytes in status and body.
func startReference(t *testing.T, configure func(*http.Server)) string {
	t.Helper()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header()["Content-Type"] = nil // the test Answer sends none
		switch {
		case r.Method == http.MethodGet && strings.HasPrefix(r.RequestURI, "/quick"):
			io.WriteString(w, "quick GET "+r.RequestURI)
		case r.Method == http.MethodPost && string(body) == "quick":
			io.WriteString(w, "quick POST "+r.RequestURI)
		default:
			http.Error(w, "unexpected", http.StatusTeapot)
		}
	})}
	configure(srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// transcript writes raw to a new connection to addr, then drip a byte at
// a time until the server closes, and describes what came back: each
// answer's status, Connection and Content-Type headers and body, then how
// the connection ended.
func transcript(t *testing.T, addr, raw, drip string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(4 * time.Second))
	io.WriteString(c, raw)
	if drip != "" {
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
				if _, err := io.WriteString(c, drip); err != nil {
					return
				}
			}
		}()
	}
	var out []string
	br := bufio.NewReader(c)
	for {
		if _, err := br.Peek(1); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return strings.Join(append(out, "still open after 4 s"), "\n")
			}
			return strings.Join(append(out, "closed"), "\n")
		}
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			return strings.Join(append(out, "unreadable answer: "+err.Error()), "\n")
		}
		body, _ := io.ReadAll(res.Body)
		out = append(out, fmt.Sprintf("%d %q %q %q", res.StatusCode, res.Header.Get("Connection"), res.Header.Get("Content-Type"), body))
	}
}

// A connection that waited longer than WriteTimeout for its next request
// still gets its answer: the write deadline counts from the request.
func TestServer_LongIdleThenRequest(t *testing.T) {
	ts := startServer(t, func(s *Server) { s.WriteTimeout = 20 * time.Millisecond })
	c := ts.dial(t)
	br := bufio.NewReader(c)
	for i := range 3 {
		io.WriteString(c, "GET /quick/"+strconv.Itoa(i)+" HTTP/1.1\r\nHost: a\r\n\r\n")
		if got := readResponses(t, br, 1); got[0] != "200 quick GET /quick/"+strconv.Itoa(i) {
			t.Fatalf("request %d: %q", i, got)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// Shutdown closes idle connections, lets handed-off ones finish through
// net/http's Shutdown, and makes Serve return ErrServerClosed.
func TestServer_Shutdown(t *testing.T) {
	ts := startServer(t, nil)
	idle := ts.dial(t)
	io.WriteString(idle, "GET /quick HTTP/1.1\r\nHost: a\r\n\r\n")
	br := bufio.NewReader(idle)
	readResponses(t, br, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("idle connection after Shutdown: %v, want EOF", err)
	}
	if _, err := net.Dial("tcp", ts.addr); err == nil {
		t.Error("the listener still accepts after Shutdown")
	}
}

// A request being answered when Shutdown starts is answered, with
// "Connection: close" as net/http's would be, and Shutdown waits for it.
func TestServer_ShutdownDuringAnswer(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
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
	c := ts.dial(t)
	io.WriteString(c, "GET /quick/slow HTTP/1.1\r\nHost: a\r\n\r\n")
	<-entered
	shut := make(chan error, 1)
	go func() { shut <- ts.Shutdown(context.Background()) }()
	for !ts.closing.Load() {
		time.Sleep(time.Millisecond)
	}
	close(release)
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	if string(body) != "quick GET /quick/slow" || !res.Close {
		t.Errorf("answer %q, Connection: close %v", body, res.Close)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("after the answer: %v, want EOF", err)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown = %v", err)
	}
}

func TestConnectionClose(t *testing.T) {
	for in, want := range map[string]string{
		"HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody":                      "HTTP/1.1 200 OK\r\nConnection: close\r\nA: b\r\n\r\nbody",
		"HTTP/1.1 200 OK\r\n\r\n":                                  "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n",
		"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nx":            "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nx",
		"HTTP/1.1 200 OK\r\nA: b\r\n\r\n\r\nConnection: close\r\n": "HTTP/1.1 200 OK\r\nConnection: close\r\nA: b\r\n\r\n\r\nConnection: close\r\n",
	} {
		if got := string(connectionClose([]byte(in))); got != want {
			t.Errorf("connectionClose(%q) = %q, want %q", in, got, want)
		}
	}
}

// Shutdown does not wait for a client in the middle of sending a header
// (net/http's does not either), and closes the idle connections handed to
// net/http.
func TestServer_ShutdownTricklingAndHandedOff(t *testing.T) {
	ts := startServer(t, func(s *Server) { s.ReadHeaderTimeout = time.Minute })
	dial := func(raw string) *bufio.Reader {
		c := ts.dial(t)
		io.WriteString(c, raw)
		return bufio.NewReader(c)
	}
	handed := dial("GET /other HTTP/1.1\r\nHost: a\r\n\r\n")
	readResponses(t, handed, 1)
	trickling := dial("GET /quick HTTP/1.1\r\nHo")
	time.Sleep(50 * time.Millisecond) // let the server read the first bytes
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := ts.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown = %v; it waited for the trickling client", err)
	}
	for name, br := range map[string]*bufio.Reader{"trickling": trickling, "handed off": handed} {
		if _, err := br.ReadByte(); err != io.EOF {
			t.Errorf("%s connection after Shutdown: %v, want EOF", name, err)
		}
	}
	if st := ts.Stats(); st.HandedOff != 1 {
		t.Errorf("Stats = %+v, want one handoff", st)
	}
}

// FuzzReadRequest checks readRequest against net/http's own parser: any
// request the quick path takes is one http.ReadRequest reads with the same
// method, target and body, using exactly the bytes the quick path will
// consume, with a Host net/http's server accepts; what http.ReadRequest
// refuses the quick path never takes.
func FuzzReadRequest(f *testing.F) {
	f.Add([]byte("GET /MFMwUTBPME0wSzAJBgUrDgMCGgUABBQ HTTP/1.1\r\nHost: ocsp\r\nUser-Agent: x\r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.1\r\nHost: a\r\nContent-Type: application/ocsp-request\r\nContent-Length: 3\r\n\r\nabcGET"))
	f.Add([]byte("POST / HTTP/1.1\r\nHost: a\r\ncontent-length: 0\r\n\r\n"))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive\r\n\r\n"))
	f.Add([]byte("GET / HTTP/1.1\r\nHost:\r\n\r\n"))
	f.Add([]byte("GET /\x00 HTTP/1.1\r\nHost: a\r\n\r\n"))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\nX:\x7f\r\n\r\n"))
	f.Add([]byte("GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n"))
	f.Add([]byte("GET /a?%zz HTTP/1.1\r\nHost: a b\r\n\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		req, head, body, ok, _ := readRequest(bufio.NewReaderSize(bytes.NewReader(raw), bufSize), func() {})
		if !ok || head+body > len(raw) {
			return // declined, or the body is still to come
		}
		hr, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			t.Fatalf("quick path takes %q, net/http refuses it: %v", raw, err)
		}
		got, err := io.ReadAll(hr.Body)
		if err != nil {
			t.Fatalf("net/http body of %q: %v", raw, err)
		}
		method := http.MethodPost
		if req.Get {
			method = http.MethodGet
		}
		if hr.Method != method || hr.RequestURI != req.Target || hr.ProtoMinor != 1 ||
			hr.Close || len(hr.TransferEncoding) > 0 || hr.Header.Get("Expect") != "" || hr.Header.Get("If-None-Match") != "" {
			t.Fatalf("quick path reads %q as %+v; net/http as %s %q HTTP/1.%d close=%v", raw, req, hr.Method, hr.RequestURI, hr.ProtoMinor, hr.Close)
		}
		if !httpguts.ValidHostHeader(hr.Host) {
			t.Fatalf("quick path takes %q; net/http's server refuses its Host %q", raw, hr.Host)
		}
		if !req.Get && string(got) != string(raw[head:head+body]) || req.Get && len(got) != 0 {
			t.Fatalf("quick path body of %q is %q, net/http's %q", raw, raw[head:head+body], got)
		}
	})
}

// A panic in Answer closes that connection, logged, and the server goes on.
func TestServer_PanicClosesTheConnection(t *testing.T) {
	var logged syncbuf.Buffer // written by the server's goroutine
	ts := startServer(t, func(s *Server) {
		answer := s.Answer
		s.Fallback.ErrorLog = log.New(&logged, "", 0)
		s.Answer = func(dst []byte, req Request) ([]byte, bool) {
			if req.Target == "/quick/panic" {
				panic("boom")
			}
			return answer(dst, req)
		}
	})
	c := ts.dial(t)
	io.WriteString(c, "GET /quick/panic HTTP/1.1\r\nHost: a\r\n\r\n")
	if _, err := bufio.NewReader(c).ReadByte(); err != io.EOF {
		t.Errorf("after the panic: %v, want EOF", err)
	}
	if got := ts.exchange(t, "GET /quick/1 HTTP/1.1\r\nHost: a\r\n\r\n", 1); got[0] != "200 quick GET /quick/1" {
		t.Errorf("next connection: %q", got)
	}
	if !strings.Contains(logged.String(), "boom") {
		t.Errorf("log %q does not name the panic", logged.String())
	}
}

// With Handler set, a request Answer declines is answered in place, as
// net/http would answer it, and the connection stays on the quick path;
// Local decides which go to Fallback instead.
func TestServer_LocalHandler(t *testing.T) {
	var ts *testServer
	ts = startServer(t, func(s *Server) {
		s.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ts.handled.Add(1)
			body, _ := io.ReadAll(r.Body)
			switch r.URL.Path {
			case "/304":
				w.WriteHeader(http.StatusNotModified)
				w.Write([]byte("dropped"))
			case "/close":
				w.Header().Set("Connection", "Close")
				w.WriteHeader(http.StatusOK)
				w.Header().Set("X-Late", "ignored")
				fmt.Fprint(w, "bye")
			case "/html":
				fmt.Fprint(w, "<html><body>x</body></html>")
			default:
				w.Header().Set("Content-Type", "text/plain")
				w.Header().Set("X-Seen", r.Header.Get("X-Test")+"|"+r.Host+"|"+r.RemoteAddr[:10])
				fmt.Fprintf(w, "local %s %s %s %q", r.Proto, r.Method, r.RequestURI, body)
			}
		})
		s.Local = func(r Request) bool { return r.Target != "/handoff" }
	})
	c := ts.dial(t)
	io.WriteString(c, "GET /other?q=1 HTTP/1.1\r\nHost: h\r\nX-Test: t\r\n\r\n"+
		"POST /nonce HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nnonce"+
		"GET /quick/after HTTP/1.1\r\nHost: h\r\n\r\n"+
		"GET /304 HTTP/1.1\r\nHost: h\r\n\r\n"+
		"GET /html HTTP/1.1\r\nHost: h\r\n\r\n"+
		"GET /close HTTP/1.1\r\nHost: h\r\n\r\n")
	br := bufio.NewReader(c)
	var got []string
	for range 6 {
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		body, _ := io.ReadAll(res.Body)
		got = append(got, fmt.Sprintf("%d %s|%s|%s%s|len=%d|date=%v", res.StatusCode, body, res.Header.Get("Content-Type"), res.Header.Get("X-Seen"), res.Header.Get("X-Late"), res.ContentLength, res.Header.Get("Date") != ""))
	}
	want := []string{
		`200 local HTTP/1.1 GET /other?q=1 ""|text/plain|t|h|127.0.0.1:|len=32|date=true`,
		`200 local HTTP/1.1 POST /nonce "nonce"|text/plain||h|127.0.0.1:|len=34|date=true`,
		`200 quick GET /quick/after|||len=22|date=false`,
		`304 |||len=0|date=true`,
		`200 <html><body>x</body></html>|text/html; charset=utf-8||len=27|date=true`,
		`200 bye|text/plain; charset=utf-8||len=3|date=true`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("after Connection: close: %v, want EOF", err)
	}
	if st := ts.Stats(); st != (Stats{Quick: 1, Local: 5}) {
		t.Errorf("Stats = %+v, want 1 quick, 5 local, no handoff", st)
	}
	if got := ts.exchange(t, "GET /handoff HTTP/1.1\r\nHost: h\r\n\r\n", 1); got[0] != `200 fallback HTTP/1.1 GET /handoff ""` || ts.Stats().HandedOff != 1 {
		t.Errorf("Local false: %q, Stats %+v", got, ts.Stats())
	}
}
