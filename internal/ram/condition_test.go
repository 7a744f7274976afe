package ram_test

import (
	"net"
	"testing"
	"time"

	"github.com/certstatus/certstatus/internal/ram"
)

func TestEvaluate_Conditions(t *testing.T) {
	noon := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	req := func(ip string, now time.Time, tls bool) ram.Request {
		return ram.Request{Action: describe, SourceIP: net.ParseIP(ip), CurrentTime: now, SecureTransport: tls}
	}
	office := req("192.168.1.20", noon, true)
	cases := map[string]struct {
		cond string
		req  ram.Request
		want bool
	}{
		"ip/in CIDR":                     {`{"IpAddress":{"acs:SourceIp":"192.168.1.0/24"}}`, office, true},
		"ip/outside CIDR":                {`{"IpAddress":{"acs:SourceIp":"192.168.2.0/24"}}`, office, false},
		"ip/single address":              {`{"IpAddress":{"acs:SourceIp":"192.168.1.20"}}`, office, true},
		"ip/single address other":        {`{"IpAddress":{"acs:SourceIp":"192.168.1.21"}}`, office, false},
		"ip/values are OR":               {`{"IpAddress":{"acs:SourceIp":["10.0.0.0/8","192.168.1.0/24"]}}`, office, true},
		"ip/host bits masked":            {`{"IpAddress":{"acs:SourceIp":"192.168.1.99/24"}}`, office, true},
		"ip/key case-insensitive":        {`{"IpAddress":{"ACS:SOURCEIP":"192.168.1.0/24"}}`, office, true},
		"ip/4-byte request address":      {`{"IpAddress":{"acs:SourceIp":"192.168.1.0/24"}}`, ram.Request{Action: describe, SourceIP: net.IPv4(192, 168, 1, 20).To4()}, true},
		"ip/IPv6 CIDR":                   {`{"IpAddress":{"acs:SourceIp":"2001:db8:abcd::/48"}}`, req("2001:db8:abcd:12::1", noon, true), true},
		"ip/IPv6 CIDR outside":           {`{"IpAddress":{"acs:SourceIp":"2001:db8:abcd::/48"}}`, req("2001:db8:abce::1", noon, true), false},
		"ip/IPv6 prefix vs IPv4 client":  {`{"IpAddress":{"acs:SourceIp":"2001:db8::/32"}}`, office, false},
		"ip/IPv4-mapped value":           {`{"IpAddress":{"acs:SourceIp":"::ffff:192.168.1.0/120"}}`, office, true},
		"ip/IPv4-mapped client":          {`{"IpAddress":{"acs:SourceIp":"192.168.1.0/24"}}`, req("::ffff:192.168.1.20", noon, true), true},
		"ip/no SourceIP":                 {`{"IpAddress":{"acs:SourceIp":"0.0.0.0/0"}}`, ram.Request{Action: describe}, false},
		"ip/bad SourceIP length":         {`{"IpAddress":{"acs:SourceIp":"0.0.0.0/0"}}`, ram.Request{Action: describe, SourceIP: net.IP{1, 2, 3}}, false},
		"notip/outside":                  {`{"NotIpAddress":{"acs:SourceIp":"10.0.0.0/8"}}`, office, true},
		"notip/inside":                   {`{"NotIpAddress":{"acs:SourceIp":"192.168.0.0/16"}}`, office, false},
		"notip/in none of several":       {`{"NotIpAddress":{"acs:SourceIp":["10.0.0.0/8","172.16.0.0/12"]}}`, office, true},
		"notip/in one of several":        {`{"NotIpAddress":{"acs:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}`, office, false},
		"notip/IPv6":                     {`{"NotIpAddress":{"acs:SourceIp":"2001:db8::/32"}}`, req("2001:db9::1", noon, true), true},
		"notip/no SourceIP":              {`{"NotIpAddress":{"acs:SourceIp":"10.0.0.0/8"}}`, ram.Request{Action: describe}, false},
		"date/greater than":              {`{"DateGreaterThan":{"acs:CurrentTime":"2025-06-01T11:59:59Z"}}`, office, true},
		"date/greater than equal time":   {`{"DateGreaterThan":{"acs:CurrentTime":"2025-06-01T12:00:00Z"}}`, office, false},
		"date/greater equals equal time": {`{"DateGreaterThanEquals":{"acs:CurrentTime":"2025-06-01T12:00:00Z"}}`, office, true},
		"date/greater equals later":      {`{"DateGreaterThanEquals":{"acs:CurrentTime":"2025-06-01T12:00:01Z"}}`, office, false},
		"date/less than":                 {`{"DateLessThan":{"acs:CurrentTime":"2025-06-01T12:00:01Z"}}`, office, true},
		"date/less than equal time":      {`{"DateLessThan":{"acs:CurrentTime":"2025-06-01T12:00:00Z"}}`, office, false},
		"date/less equals equal time":    {`{"DateLessThanEquals":{"acs:CurrentTime":"2025-06-01T12:00:00Z"}}`, office, true},
		"date/less equals earlier":       {`{"DateLessThanEquals":{"acs:CurrentTime":"2025-06-01T11:59:59Z"}}`, office, false},
		"date/time zone offset":          {`{"DateLessThan":{"acs:CurrentTime":"2025-06-01T20:00:01+08:00"}}`, office, true},
		"date/window":                    {`{"DateGreaterThanEquals":{"acs:CurrentTime":"2025-01-01T00:00:00Z"},"DateLessThan":{"acs:CurrentTime":"2026-01-01T00:00:00Z"}}`, office, true},
		"date/window expired":            {`{"DateGreaterThanEquals":{"acs:CurrentTime":"2024-01-01T00:00:00Z"},"DateLessThan":{"acs:CurrentTime":"2025-01-01T00:00:00Z"}}`, office, false},
		"date/values are OR":             {`{"DateLessThan":{"acs:CurrentTime":["2020-01-01T00:00:00Z","2030-01-01T00:00:00Z"]}}`, office, true},
		"date/no CurrentTime":            {`{"DateLessThan":{"acs:CurrentTime":"2030-01-01T00:00:00Z"}}`, ram.Request{Action: describe}, false},
		"bool/true over TLS":             {`{"Bool":{"acs:SecureTransport":"true"}}`, office, true},
		"bool/true without TLS":          {`{"Bool":{"acs:SecureTransport":"true"}}`, req("192.168.1.20", noon, false), false},
		"bool/false without TLS":         {`{"Bool":{"acs:SecureTransport":"false"}}`, req("192.168.1.20", noon, false), true},
		"bool/false over TLS":            {`{"Bool":{"acs:SecureTransport":"False"}}`, office, false},
		"and/all operators hold":         {`{"IpAddress":{"acs:SourceIp":"192.168.0.0/16"},"Bool":{"acs:SecureTransport":"true"},"DateLessThan":{"acs:CurrentTime":"2030-01-01T00:00:00Z"}}`, office, true},
		"and/one operator fails":         {`{"IpAddress":{"acs:SourceIp":"192.168.0.0/16"},"Bool":{"acs:SecureTransport":"false"}}`, office, false},
		"and/keys differing in case":     {`{"IpAddress":{"acs:SourceIp":"192.168.0.0/16","acs:sourceip":"10.0.0.0/8"}}`, office, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := mustParse(t, doc(`{"Effect":"Allow","Action":"yundun-cert:*","Resource":"*","Condition":`+tc.cond+`}`))
			if got := p.Evaluate(tc.req).Allowed; got != tc.want {
				t.Errorf("Allow: got %v, want %v", got, tc.want)
			}
			// The same condition on a Deny decides between explicit and implicit deny.
			p = mustParse(t, doc(`{"Effect":"Allow","Action":"*","Resource":"*"}`,
				`{"Effect":"Deny","Action":"yundun-cert:*","Resource":"*","Condition":`+tc.cond+`}`))
			d := p.Evaluate(tc.req)
			if d.ExplicitDeny != tc.want || d.Allowed == tc.want {
				t.Errorf("Deny: got %+v, want ExplicitDeny %v", d, tc.want)
			}
		})
	}
}
