package api

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// client returns what the RAM conditions acs:SourceIp and
// acs:SecureTransport see of r: the client's address and whether it
// reached the service over TLS.
//
// The TCP peer and r.TLS are the answer unless the peer is one of
// Options.TrustedProxies. Then X-Forwarded-For is read from the right: each
// address a trusted proxy added is skipped, and the first one that is not a
// trusted proxy is the client (the rightmost untrusted hop; the hops left
// of it were written by the client itself and prove nothing). A hop that is
// not an address ends the walk at the last trusted hop. X-Forwarded-Proto,
// when present, says whether the client's leg was TLS: its last value, the
// one the nearest proxy set, must be "https". From any other peer both
// headers are ignored, so a client cannot claim an address or a transport.
func (s *Server) client(r *http.Request) (net.IP, bool) {
	secure := r.TLS != nil
	peer := peerAddr(r.RemoteAddr)
	if !peer.IsValid() || !s.trusted(peer) {
		return ipOf(peer), secure
	}
	addr := peer
	hops := headerList(r.Header.Values("X-Forwarded-For"))
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.Trim(hops[i], "[]"))
		if err != nil {
			break
		}
		addr = a.Unmap()
		if !s.trusted(addr) {
			break
		}
	}
	if protos := headerList(r.Header.Values("X-Forwarded-Proto")); len(protos) > 0 {
		secure = strings.EqualFold(protos[len(protos)-1], "https")
	}
	return ipOf(addr), secure
}

// trusted reports whether a is one of the trusted proxies.
func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.opts.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// peerAddr parses the host of an http.Request's RemoteAddr; the zero Addr
// if it is not an IP address.
func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// ipOf is a as a net.IP, nil for the zero Addr (no usable SourceIp).
func ipOf(a netip.Addr) net.IP {
	if !a.IsValid() {
		return nil
	}
	return net.IP(a.AsSlice())
}

// headerList splits the comma-separated values of a repeated header into
// one list, in order, trimmed, without empty entries.
func headerList(values []string) []string {
	var out []string
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}
