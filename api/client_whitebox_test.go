package api

import (
	"crypto/tls"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestServer_Client(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for _, tc := range []struct {
		name       string
		remote     string
		tls        bool
		xff, proto []string
		wantIP     string
		wantSecure bool
	}{
		{name: "plain/no proxy", remote: "192.0.2.7:5000", wantIP: "192.0.2.7"},
		{name: "tls/no proxy", remote: "192.0.2.7:5000", tls: true, wantIP: "192.0.2.7", wantSecure: true},
		{name: "untrusted peer/headers ignored", remote: "192.0.2.7:5000", xff: []string{"198.51.100.1"}, proto: []string{"https"}, wantIP: "192.0.2.7"},
		{name: "untrusted tls peer/proto http ignored", remote: "192.0.2.7:5000", tls: true, proto: []string{"http"}, wantIP: "192.0.2.7", wantSecure: true},
		{name: "trusted peer/client from xff", remote: "10.1.2.3:5000", xff: []string{"198.51.100.1"}, proto: []string{"https"}, wantIP: "198.51.100.1", wantSecure: true},
		{name: "trusted peer/proto http over tls", remote: "10.1.2.3:5000", tls: true, xff: []string{"198.51.100.1"}, proto: []string{"http"}, wantIP: "198.51.100.1"},
		{name: "trusted peer/no proto keeps the connection's", remote: "10.1.2.3:5000", tls: true, xff: []string{"198.51.100.1"}, wantIP: "198.51.100.1", wantSecure: true},
		{name: "trusted peer/no xff is the peer", remote: "10.1.2.3:5000", proto: []string{"HTTPS"}, wantIP: "10.1.2.3", wantSecure: true},
		{name: "rightmost untrusted hop/spoofed left ignored", remote: "10.1.2.3:5000", xff: []string{"203.0.113.9, 198.51.100.1, 10.9.9.9"}, wantIP: "198.51.100.1"},
		{name: "rightmost untrusted hop/several header lines", remote: "10.1.2.3:5000", xff: []string{"203.0.113.9", "198.51.100.1", "10.9.9.9"}, wantIP: "198.51.100.1"},
		{name: "all hops trusted/leftmost", remote: "10.1.2.3:5000", xff: []string{"10.5.5.5, 10.9.9.9"}, wantIP: "10.5.5.5"},
		{name: "garbage hop/stops at the last trusted", remote: "10.1.2.3:5000", xff: []string{"198.51.100.1, unknown, 10.9.9.9"}, wantIP: "10.9.9.9"},
		{name: "proto/last value wins", remote: "10.1.2.3:5000", proto: []string{"http, https"}, wantIP: "10.1.2.3", wantSecure: true},
		{name: "proto/last value http", remote: "10.1.2.3:5000", proto: []string{"https", "http"}, wantIP: "10.1.2.3"},
		{name: "ipv6/trusted peer", remote: "[fd00::1]:443", xff: []string{"[2001:db8::5]"}, proto: []string{"https"}, wantIP: "2001:db8::5", wantSecure: true},
		{name: "ipv4-mapped peer/trusted", remote: "[::ffff:10.1.2.3]:5000", xff: []string{"198.51.100.1"}, wantIP: "198.51.100.1"},
		{name: "no address", remote: "pipe", xff: []string{"198.51.100.1"}, wantIP: "<nil>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := newServer(&Options{TrustedProxies: proxies})
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("POST", "/", nil)
			r.RemoteAddr = tc.remote
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			} else {
				r.TLS = nil
			}
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			for _, v := range tc.proto {
				r.Header.Add("X-Forwarded-Proto", v)
			}
			ip, secure := s.client(r)
			if ip.String() != tc.wantIP || secure != tc.wantSecure {
				t.Errorf("got %v secure=%v, want %s secure=%v", ip, secure, tc.wantIP, tc.wantSecure)
			}
		})
	}
}

// TestServer_Client_NoTrustedProxies: without Options.TrustedProxies even
// a private-address peer's headers are ignored.
func TestServer_Client_NoTrustedProxies(t *testing.T) {
	s, err := newServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/", nil)
	r.RemoteAddr = "10.1.2.3:5000"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	r.Header.Set("X-Forwarded-Proto", "https")
	if ip, secure := s.client(r); ip.String() != "10.1.2.3" || secure {
		t.Errorf("got %v secure=%v, want the peer 10.1.2.3 over plain HTTP", ip, secure)
	}
}
