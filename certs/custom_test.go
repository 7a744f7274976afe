package certs_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/certstatus/certstatus/certs"
)

func TestValidateCustomIdentifier(t *testing.T) {
	for _, ok := range []string{"", "device-1", "fleet.eu:42", "a_b@c", strings.Repeat("x", 128), "0123456789abcdef0123456789abcde", "0123456789abcdef0123456789abcdef0", "0123456789abcdef0123456789abcdeg"} {
		if err := certs.ValidateCustomIdentifier(ok); err != nil {
			t.Errorf("%q: %v, want valid", ok, err)
		}
	}
	for name, bad := range map[string]string{
		"identifier":       "0123456789abcdef0123456789abcdef",
		"upper identifier": "0123456789ABCDEF0123456789ABCDEF",
		"NUL":              "dev\x00ice",
		"slash":            "fleet/1",
		"backslash":        `fleet\1`,
		"newline":          "dev\nice",
		"DEL":              "dev\x7fice",
		"space":            "dev ice",
		"quote":            `dev"ice`,
		"percent":          "dev%2Fice",
		"non-ASCII":        "désolé",
		"too long":         strings.Repeat("x", 129),
	} {
		if err := certs.ValidateCustomIdentifier(bad); !errors.Is(err, certs.ErrInvalid) {
			t.Errorf("%s %q: got %v, want ErrInvalid", name, bad, err)
		}
	}
}
