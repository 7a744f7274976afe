package ram_test

import (
	"strings"
	"testing"

	"github.com/certstatus/certstatus/internal/ram"
)

func TestMatchGlob(t *testing.T) {
	long := strings.Repeat("a", 100_000)
	cases := map[string]struct {
		pattern, s string
		want       bool
	}{
		"match/exact":                      {"yundun-cert:DescribeX", "yundun-cert:DescribeX", true},
		"match/case-insensitive":           {"YUNDUN-cert:describex", "yundun-CERT:DescribeX", true},
		"match/unicode folding":            {"k", "\u212a", true}, // KELVIN SIGN folds to k, as in strings.EqualFold
		"match/star alone":                 {"*", "", true},
		"match/star anything":              {"*", "ecs:Anything", true},
		"match/trailing star empty":        {"yundun-cert:Describe*", "yundun-cert:Describe", true},
		"match/trailing star":              {"yundun-cert:Describe*", "yundun-cert:DescribeClientCertificate", true},
		"match/inner star":                 {"yundun-cert:Describe*Status", "yundun-cert:DescribeClientCertificateStatus", true},
		"match/leading star":               {"*Status", "yundun-cert:DescribeClientCertificateStatus", true},
		"match/star backtracks":            {"*ab*ab", "xabyabzab", true},
		"match/consecutive stars":          {"a**b", "ab", true},
		"match/question one char":          {"a?c", "abc", true},
		"match/question one rune":          {"a?c", "aéc", true},
		"match/question and star":          {"?*", "x", true},
		"match/pathological a*a*a*a*a*b":   {"a*a*a*a*a*b", long + "b", true},
		"nomatch/pathological a*a*a*a*a*b": {"a*a*a*a*a*b", long, false},
		"nomatch/many stars":               {strings.Repeat("*a", 50) + "*b", long, false},
		"nomatch/prefix only":              {"yundun-cert:Describe", "yundun-cert:DescribeX", false},
		"nomatch/other service":            {"yundun-cert:*", "ecs:Describe", false},
		"nomatch/longer pattern":           {"yundun-cert:DescribeX", "yundun-cert:Describe", false},
		"nomatch/question needs a char":    {"a?", "a", false},
		"nomatch/question two chars":       {"a?c", "abbc", false},
		"nomatch/empty string":             {"a*", "", false},
		"nomatch/empty pattern":            {"", "a", false},
		"match/empty both":                 {"", "", true},
		"nomatch/star then literal":        {"*x", "abc", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := ram.MatchGlob(tc.pattern, tc.s); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestEvaluate_Pathological runs a backtracking-hostile pattern through a
// policy against a long action name. It must finish quickly (no timing
// assertion: the test timeout is the guard).
func TestEvaluate_Pathological(t *testing.T) {
	p := mustParse(t, doc(`{"Effect":"Allow","Action":"yundun-cert:a*a*a*a*a*a*a*a*a*a*b","Resource":"*"}`))
	action := "yundun-cert:" + strings.Repeat("a", 50_000)
	for range 10 {
		if d := p.Evaluate(ram.Request{Action: action}); d.Allowed {
			t.Fatalf("got %+v, want implicit deny", d)
		}
	}
	if d := p.Evaluate(ram.Request{Action: action + "b"}); !d.Allowed {
		t.Errorf("got %+v, want allowed", d)
	}
}
