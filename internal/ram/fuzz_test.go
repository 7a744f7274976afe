package ram_test

import (
	"net"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/certstatus/certstatus/internal/ram"
)

// FuzzParse checks that Parse never panics, that its errors carry the
// package prefix, and that a parsed policy evaluates without panicking to a
// consistent Decision.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		ram.AllowAll,
		// The read-only example of the brief.
		`{"Version":"1","Statement":[{"Effect":"Allow","Action":["yundun-cert:Describe*","yundun-cert:List*"],"Resource":"*"},{"Effect":"Deny","Action":"yundun-cert:Delete*","Resource":"*"}]}`,
		// Single statement object, NotAction, resource ARNs.
		`{"Version":"1","Statement":{"Effect":"Deny","NotAction":"yundun-cert:?escribe*","Resource":["acs:ecs:*","acs:*"]}}`,
		// Every condition operator.
		`{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"acs:SourceIp":["10.0.0.0/8","2001:db8::/32"]},"NotIpAddress":{"acs:sourceip":"10.9.9.9"},"DateGreaterThan":{"acs:CurrentTime":"2020-01-01T00:00:00Z"},"DateLessThanEquals":{"acs:CurrentTime":"2030-01-01T00:00:00+08:00"},"Bool":{"acs:SecureTransport":"true"}}}]}`,
		// Invalid documents.
		``, `{}`, `[]`, `null`, `{"Version":"2","Statement":[]}`,
		`{"Version":"1","Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]}`,
		`{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"acs:SourceIp":"10.0.0.0/33"}}}]}`,
		`{"Version":"1","Statement":[{"Effect":"Allow","Action":"yundun-cert:a*a*a*a*a*a*b","Resource":"*"}]}`,
	} {
		f.Add(seed)
	}
	actions := []string{"", "*", describe, del, "YUNDUN-CERT:LISTCERT", "ecs:DescribeInstances", "yundun-cert:" + strings.Repeat("a", 200)}
	reqs := []ram.Request{
		{},
		{SourceIP: net.ParseIP("10.1.2.3"), CurrentTime: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), SecureTransport: true},
		{SourceIP: net.ParseIP("2001:db8::1"), CurrentTime: time.Unix(0, 0)},
		{SourceIP: net.IP{1}},
	}
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := ram.Parse(doc)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "ram: ") {
				t.Errorf("error %q lacks the ram: prefix", err)
			}
			return
		}
		for _, a := range actions {
			for _, r := range reqs {
				r.Action = a
				d := p.Evaluate(r)
				switch {
				case d.Allowed && (d.ExplicitDeny || d.Statement < 0):
					t.Errorf("inconsistent allow %+v", d)
				case !d.Allowed && d.ExplicitDeny != (d.Statement >= 0):
					t.Errorf("inconsistent deny %+v", d)
				}
			}
		}
	})
}

// FuzzGlob checks the action matcher: it never panics, "*" matches
// everything, a pattern matches itself, a pattern without wildcards matches
// exactly the strings equal to it under case folding, and every result
// agrees with an equivalent case-insensitive regular expression.
func FuzzGlob(f *testing.F) {
	for _, seed := range [][2]string{
		{"yundun-cert:Describe*", "yundun-cert:DescribeClientCertificateStatus"},
		{"yundun-cert:*", "ecs:Describe"},
		{"*", ""},
		{"a?c", "aéc"},
		{"a*a*a*a*a*b", strings.Repeat("a", 64)},
		{"*ab*ab", "xabyabzab"},
		{"K", "\u212a"},
		{"\xff*", "\xfe"},
		{"", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		got := ram.MatchGlob(pattern, s)
		if !ram.MatchGlob("*", s) {
			t.Errorf("* does not match %q", s)
		}
		if !ram.MatchGlob(pattern, pattern) {
			t.Errorf("%q does not match itself", pattern)
		}
		if !strings.ContainsAny(pattern, "*?") {
			if want := strings.EqualFold(pattern, s); got != want {
				t.Errorf("literal %q vs %q: got %v, want %v", pattern, s, got, want)
			}
		}
		if !utf8.ValidString(pattern) {
			return // regexp patterns must be valid UTF-8
		}
		var re strings.Builder
		re.WriteString(`(?is)\A`)
		for _, r := range pattern {
			switch r {
			case '*':
				re.WriteString(`.*`)
			case '?':
				re.WriteString(`.`)
			default:
				re.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		re.WriteString(`\z`)
		if want := regexp.MustCompile(re.String()).MatchString(s); got != want {
			t.Errorf("MatchGlob(%q, %q) = %v, regexp %s says %v", pattern, s, got, re.String(), want)
		}
	})
}
