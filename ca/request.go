package ca

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cloudflare/cfssl/csr"

	"github.com/certstatus/certstatus/certs"
)

// Subject holds the distinguished-name fields certstatus sets.
type Subject struct {
	Country            string // C, two letters (ISO 3166)
	State              string // ST
	Locality           string // L
	Organization       string // O
	OrganizationalUnit string // OU
	CommonName         string // CN
}

// upper bounds from RFC 5280 Appendix A (ub-*)
const (
	ubCommonName   = 64
	ubOrganization = 64
	ubOrgUnit      = 64
	ubLocality     = 128
	ubState        = 128
)

func (s Subject) validate() error {
	check := func(name, v string, max int) error {
		if !utf8.ValidString(v) {
			return fmt.Errorf("%w subject: %s is not valid UTF-8", certs.ErrInvalid, name)
		}
		if n := utf8.RuneCountInString(v); n > max {
			return fmt.Errorf("%w subject: %s is %d characters, at most %d allowed", certs.ErrInvalid, name, n, max)
		}
		if strings.ContainsAny(v, "\x00\n\r") {
			return fmt.Errorf("%w subject: %s contains a control character", certs.ErrInvalid, name)
		}
		return nil
	}
	if s.Country != "" {
		if len(s.Country) != 2 || strings.ToUpper(s.Country) != s.Country || !isAlpha(s.Country) {
			return fmt.Errorf("%w subject: country %q must be two upper-case letters (ISO 3166)", certs.ErrInvalid, s.Country)
		}
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{
		{"common name", s.CommonName, ubCommonName},
		{"organization", s.Organization, ubOrganization},
		{"organizational unit", s.OrganizationalUnit, ubOrgUnit},
		{"locality", s.Locality, ubLocality},
		{"state", s.State, ubState},
	} {
		if err := check(f.name, f.v, f.max); err != nil {
			return err
		}
	}
	return nil
}

func isAlpha(s string) bool {
	for _, c := range s {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

func (s Subject) cfssl() *csr.CertificateRequest {
	return &csr.CertificateRequest{
		CN: s.CommonName,
		Names: []csr.Name{{
			C: s.Country, ST: s.State, L: s.Locality, O: s.Organization, OU: s.OrganizationalUnit,
		}},
	}
}

// Validity is how long a certificate is valid: either Days from now, or an
// explicit NotBefore and NotAfter.
type Validity struct {
	Days      int
	NotBefore time.Time
	NotAfter  time.Time
}

// backdate is how far before "now" a certificate starts, for relying
// parties whose clocks run slow (cfssl's default).
const backdate = 5 * time.Minute

// window resolves v at now inside the issuing CA's validity [caFrom, caTo).
// A root passes its own window as zero times.
func (v Validity) window(now, caFrom, caTo time.Time) (time.Time, time.Time, error) {
	explicit := !v.NotBefore.IsZero() || !v.NotAfter.IsZero()
	var nb, na time.Time
	switch {
	case v.Days < 0:
		return nb, na, fmt.Errorf("%w validity: days must be positive, got %d", certs.ErrInvalid, v.Days)
	case v.Days > 0 && explicit:
		return nb, na, fmt.Errorf("%w validity: give days or not-before/not-after, not both", certs.ErrInvalid)
	case v.Days > 0:
		if v.Days > 100*366 {
			return nb, na, fmt.Errorf("%w validity: %d days is more than 100 years", certs.ErrInvalid, v.Days)
		}
		nb = now.Add(-backdate).Truncate(time.Second)
		if nb.Before(caFrom) {
			nb = caFrom
		}
		na = now.Truncate(time.Second).AddDate(0, 0, v.Days)
	case explicit:
		if v.NotBefore.IsZero() || v.NotAfter.IsZero() {
			return nb, na, fmt.Errorf("%w validity: not-before and not-after go together", certs.ErrInvalid)
		}
		nb, na = v.NotBefore.UTC().Truncate(time.Second), v.NotAfter.UTC().Truncate(time.Second)
	default:
		return nb, na, fmt.Errorf("%w validity: give days or not-before/not-after", certs.ErrInvalid)
	}
	if !na.After(nb) {
		return nb, na, fmt.Errorf("%w validity: not-after %s is not after not-before %s", certs.ErrInvalid, na.Format(time.RFC3339), nb.Format(time.RFC3339))
	}
	if !na.After(now) {
		return nb, na, fmt.Errorf("%w validity: not-after %s is already past", certs.ErrInvalid, na.Format(time.RFC3339))
	}
	if !caFrom.IsZero() && nb.Before(caFrom) {
		return nb, na, fmt.Errorf("%w validity: not-before %s is before the issuing CA's not-before %s", certs.ErrInvalid, nb.Format(time.RFC3339), caFrom.UTC().Format(time.RFC3339))
	}
	if !caTo.IsZero() && na.After(caTo) {
		return nb, na, fmt.Errorf("%w validity: not-after %s is beyond the issuing CA's not-after %s", certs.ErrInvalid, na.Format(time.RFC3339), caTo.UTC().Format(time.RFC3339))
	}
	return nb, na, nil
}

// SANs are the subject alternative names of a leaf certificate.
type SANs struct {
	DNSNames []string
	IPs      []net.IP
	Emails   []string
	URIs     []*url.URL
}

func (s SANs) empty() bool {
	return len(s.DNSNames) == 0 && len(s.IPs) == 0 && len(s.Emails) == 0 && len(s.URIs) == 0
}

// ParseSAN sorts one name into s by its form: an IP address, an e-mail
// address (contains @), a URI (has a scheme), or else a DNS name. It is
// what the CLI and Alibaba's comma-separated Domain parameter use.
func (s *SANs) ParseSAN(v string) error {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return fmt.Errorf("%w SAN: empty name", certs.ErrInvalid)
	case net.ParseIP(v) != nil:
		s.IPs = append(s.IPs, net.ParseIP(v))
	case strings.Contains(v, "://") || strings.HasPrefix(v, "urn:") || strings.HasPrefix(v, "spiffe:"):
		u, err := parseURI(v)
		if err != nil {
			return err
		}
		s.URIs = append(s.URIs, u)
	case strings.Contains(v, "@"):
		if err := checkEmail(v); err != nil {
			return err
		}
		s.Emails = append(s.Emails, v)
	default:
		if err := checkDNSName(v); err != nil {
			return err
		}
		s.DNSNames = append(s.DNSNames, strings.ToLower(v))
	}
	return nil
}

func (s SANs) validate() error {
	for _, n := range s.DNSNames {
		if err := checkDNSName(n); err != nil {
			return err
		}
	}
	for _, ip := range s.IPs {
		if ip == nil || (ip.To4() == nil && len(ip) != net.IPv6len) {
			return fmt.Errorf("%w SAN: bad IP address %v", certs.ErrInvalid, ip)
		}
	}
	for _, e := range s.Emails {
		if err := checkEmail(e); err != nil {
			return err
		}
	}
	for _, u := range s.URIs {
		if u == nil || u.Scheme == "" || (u.Host == "" && u.Opaque == "") {
			return fmt.Errorf("%w SAN: URI %v needs a scheme and an authority", certs.ErrInvalid, u)
		}
	}
	return nil
}

func parseURI(v string) (*url.URL, error) {
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" || (u.Host == "" && u.Opaque == "") {
		return nil, fmt.Errorf("%w SAN: %q is not an absolute URI", certs.ErrInvalid, v)
	}
	return u, nil
}

func checkEmail(v string) error {
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || a.Name != "" {
		return fmt.Errorf("%w SAN: %q is not a plain e-mail address", certs.ErrInvalid, v)
	}
	for _, c := range v {
		if c > 0x7e {
			return fmt.Errorf("%w SAN: e-mail %q must be ASCII (rfc822Name is IA5String)", certs.ErrInvalid, v)
		}
	}
	return nil
}

// checkDNSName accepts LDH labels, a leading "*." wildcard, at most 253
// characters and 63 per label.
func checkDNSName(v string) error {
	bad := func(why string) error { return fmt.Errorf("%w SAN: DNS name %q %s", certs.ErrInvalid, v, why) }
	if len(v) > 253 {
		return bad("is longer than 253 characters")
	}
	name := strings.TrimPrefix(v, "*.")
	if name == "" {
		return bad("is empty")
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" {
			return bad("has an empty label")
		}
		if len(label) > 63 {
			return bad("has a label longer than 63 characters")
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return bad("has a label that starts or ends with a hyphen")
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return bad(fmt.Sprintf("has the character %q (only letters, digits and hyphens; use punycode for IDNs)", c))
			}
		}
	}
	return nil
}

func (s SANs) hosts() []string {
	var out []string
	out = append(out, s.DNSNames...)
	for _, ip := range s.IPs {
		out = append(out, ip.String())
	}
	out = append(out, s.Emails...)
	for _, u := range s.URIs {
		out = append(out, u.String())
	}
	return out
}

var timeZero time.Time
