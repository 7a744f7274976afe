package responder_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	mathrand "math/rand/v2"
	"strings"
	"testing"

	"github.com/certstatus/certstatus/responder"
)

// mutation damages a GET path's base64 the ways paths get damaged in
// transit, or by someone probing the responder. repairable mutations are
// the ones DecodeGET may undo; after any other, DecodeGET must answer
// the request as sent (if the damaged string is itself one well-formed
// request), the request before the damage, or ErrBadGET — never a third
// request.
type mutation struct {
	name       string
	repairable bool
	apply      func(rng *mathrand.Rand, s string) (string, bool)
}

var mutations = []mutation{
	{"space for a plus", true, func(_ *mathrand.Rand, s string) (string, bool) {
		return strings.ReplaceAll(s, "+", " "), strings.Contains(s, "+")
	}},
	{"wrapped", true, func(rng *mathrand.Rand, s string) (string, bool) {
		i := rng.IntN(len(s) + 1)
		return s[:i] + " " + s[i:], true
	}},
	{"merge every slash run", false, func(_ *mathrand.Rand, s string) (string, bool) {
		if !strings.Contains(s, "//") {
			return "", false
		}
		for strings.Contains(s, "//") {
			s = strings.ReplaceAll(s, "//", "/")
		}
		return s, true
	}},
	{"merge one slash run", false, func(rng *mathrand.Rand, s string) (string, bool) {
		j := rng.IntN(len(s))
		i := strings.Index(s[j:], "//")
		if i >= 0 {
			i += j
		} else {
			i = strings.Index(s, "//")
		}
		if i < 0 {
			return "", false
		}
		return s[:i] + s[i+1:], true
	}},
	{"double every slash", false, func(_ *mathrand.Rand, s string) (string, bool) {
		return strings.ReplaceAll(s, "/", "//"), strings.Contains(s, "/")
	}},
	{"delete a character", false, func(rng *mathrand.Rand, s string) (string, bool) {
		i := rng.IntN(len(s))
		return s[:i] + s[i+1:], true
	}},
	{"insert a character", false, func(rng *mathrand.Rand, s string) (string, bool) {
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
		i := rng.IntN(len(s) + 1)
		return s[:i] + string(alphabet[rng.IntN(64)]) + s[i:], true
	}},
	{"insert a slash", false, func(rng *mathrand.Rand, s string) (string, bool) {
		i := rng.IntN(len(s) + 1)
		return s[:i] + "/" + s[i:], true
	}},
	{"delete a slash", false, func(rng *mathrand.Rand, s string) (string, bool) {
		n := strings.Count(s, "/")
		if n == 0 {
			return "", false
		}
		k := rng.IntN(n)
		for i := range len(s) {
			if s[i] == '/' {
				if k == 0 {
					return s[:i] + s[i+1:], true
				}
				k--
			}
		}
		return "", false
	}},
	{"delete two characters", false, func(rng *mathrand.Rand, s string) (string, bool) {
		i := rng.IntN(len(s) - 1)
		s = s[:i] + s[i+1:]
		j := rng.IntN(len(s))
		return s[:j] + s[j+1:], true
	}},
}

// TestDecodeGET_NeverGuesses damages random requests in random ways and
// fails if DecodeGET ever returns a request other than the one sent or
// the one before the damage. (An earlier repair of
// merged slashes accepted any single way of putting slashes back that
// parsed, and answered 66 of about 800,000 random GETs for a CertID the
// client never sent.)
func TestDecodeGET_NeverGuesses(t *testing.T) {
	src := newRNG()
	rng := mathrand.New(src)
	ca := newReqPKI(t).ca
	iterations := 120000
	if testing.Short() {
		iterations = 20000
	}
	wrong, repaired := map[string]int{}, map[string]int{}
	var example string
	for i := 0; i < iterations; i++ {
		issuer := ca
		if i%2 == 1 {
			issuer = nil
		}
		der := randomRequest(t, src, issuer)
		std := base64.StdEncoding.EncodeToString(der)
		m := mutations[i%len(mutations)]
		bad, ok := m.apply(rng, std)
		if !ok {
			continue
		}
		got, err := responder.DecodeGET("/"+bad, "")
		if err != nil {
			continue
		}
		sent, _ := base64.StdEncoding.DecodeString(bad)
		switch {
		case bytes.Equal(got, sent):
		case bytes.Equal(got, der):
			repaired[m.name]++
		default:
			wrong[m.name]++
			if example == "" {
				example = fmt.Sprintf("%s: %q from %q", m.name, bad, std)
			}
		}
	}
	if len(wrong) > 0 {
		t.Fatalf("DecodeGET answered for a request that was not sent: %v (first: %s)", wrong, example)
	}
	t.Logf("undone: %v", repaired)
	for _, m := range mutations {
		if m.repairable && repaired[m.name] == 0 {
			t.Errorf("no %q path was repaired", m.name)
		}
	}
}

// TestDecodeGET_WorkIsBounded holds the work of crafted paths — many
// slashes, trailing spaces, paths at the repair limit and far beyond it —
// to a few decodings of the path's length.
func TestDecodeGET_WorkIsBounded(t *testing.T) {
	der := randomRequest(t, newRNG(), newReqPKI(t).ca)
	std := base64.StdEncoding.EncodeToString(der)
	slashy := strings.Repeat("M/A/", 85)
	paths := map[string]string{
		"normal":               "/" + std,
		"slashes at the limit": "/" + slashy[:340],
		"slash runs":           "/" + strings.Repeat("MA//", 80) + "   ",
		"trailing spaces":      "/" + slashy[:340] + "      ",
		"spaces everywhere":    "/" + strings.Repeat("M A/", 89) + "   ",
		"long":                 "/" + strings.Repeat("MA/ ", 2000),
		"long escaped":         "/" + strings.Repeat("%252F", 1600),
	}
	for name, p := range paths {
		_, decodes, chars, _ := responder.DecodeGETWork(p, "")
		t.Logf("%s: %d bytes, %d decodes of %d characters", name, len(p), decodes, chars)
		if decodes > 18 || chars > 18*len(p) {
			t.Errorf("%s: %d decodes of %d characters for a %d-byte path; want at most 18 of the path's length", name, decodes, chars, len(p))
		}
	}
}

// BenchmarkDecodeGET compares a normal GET with crafted ones.
func BenchmarkDecodeGET(b *testing.B) {
	std := "MEMwQTA/MD0wOzAJBgUrDgMCGgUABBTqxoWLWn1bLV8ig5KGYtX7UOp3DQQUAqGpUXZEYHlWI1ZLkf1vJ0uQpsUCAgPo"
	paths := map[string]string{
		"normal":       "/" + std,
		"merged":       "/" + strings.Replace(std, "MD0w", "MD0/w", 1),
		"crafted":      "/" + strings.Repeat("MA/B", 85) + "   ",
		"crafted-long": "/" + strings.Repeat("MA/ ", 4000),
	}
	for _, name := range []string{"normal", "merged", "crafted", "crafted-long"} {
		p := paths[name]
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				responder.DecodeGET(p, "")
			}
		})
	}
}
