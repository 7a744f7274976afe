package main

import (
	"net"
	"slices"
	"testing"
)

func TestListenerHosts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		addr  string
		bound net.Addr
		extra []string
		want  []string // must all be present
		not   []string // must be absent
	}{
		{"loopback/the bound address only", "127.0.0.1:0", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8443}, nil,
			[]string{"127.0.0.1"}, []string{"localhost", "::1"}},
		{"host name/the name and the bound address", "ca.example.com:8443", &net.TCPAddr{IP: net.ParseIP("192.0.2.10"), Port: 8443}, nil,
			[]string{"ca.example.com", "192.0.2.10"}, []string{"localhost"}},
		{"all interfaces/localhost and loopback too", ":8443", &net.TCPAddr{IP: net.IPv6unspecified, Port: 8443}, nil,
			[]string{"localhost", "127.0.0.1", "::1"}, nil},
		{"extra names/added and lower-cased", "127.0.0.1:0", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, []string{"API.example.com", "203.0.113.7"},
			[]string{"127.0.0.1", "api.example.com", "203.0.113.7"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sans := listenerHosts(tc.addr, tc.bound, tc.extra)
			got := hostList(sans)
			for _, w := range tc.want {
				if !slices.Contains(got, w) {
					t.Errorf("%v lacks %s", got, w)
				}
			}
			for _, n := range tc.not {
				if slices.Contains(got, n) {
					t.Errorf("%v has %s", got, n)
				}
			}
			if len(sans.DNSNames)+len(sans.IPs) != len(got) {
				t.Errorf("%v %v: duplicates", sans.DNSNames, sans.IPs)
			}
		})
	}
}
