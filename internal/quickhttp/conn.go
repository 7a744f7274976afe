package quickhttp

import (
	"bufio"
	"net"
	"sync"
	"time"
)

// handoff gives c, with what br holds unread, to Fallback.
func (s *Server) handoff(c *conn, br *bufio.Reader) {
	s.handedOff.Add(1)
	c.c.SetDeadline(time.Time{})
	if !s.handoffs.give(&bufferedConn{Conn: c.c, r: br}) {
		c.c.Close()
	}
}

// bufferedConn is a connection whose first bytes are in r.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

// CloseWrite lets net/http half-close a handed-off connection, as it does
// a TCP one, so that an error answer is not lost to a reset.
func (c *bufferedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// NetConn returns the connection the Server accepted.
func (c *bufferedConn) NetConn() net.Conn { return c.Conn }

func (c *bufferedConn) Read(p []byte) (int, error) {
	if c.r != nil && c.r.Buffered() > 0 {
		return c.r.Read(p)
	}
	c.r = nil
	return c.Conn.Read(p)
}

// chanListener is the listener Fallback serves: the connections handed to
// it.
type chanListener struct {
	addr net.Addr
	c    chan net.Conn
	once sync.Once
	done chan struct{}
}

func (l *chanListener) give(c net.Conn) bool {
	select {
	case l.c <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.c:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) close() { l.once.Do(func() { close(l.done) }) }

func (l *chanListener) Close() error { l.close(); return nil }

func (l *chanListener) Addr() net.Addr { return l.addr }
