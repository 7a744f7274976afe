package certs

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// The request types of the CA: what a caller asks the ca package to
// create. They live here, with their syntax checks, so that the API and
// the CLI can build them without importing ca.

// Algorithm is a key algorithm and size, spelled as Alibaba's Algorithm
// parameter (ECC_256, RSA_2048, ...).
type Algorithm string

// The supported key algorithms.
const (
	ECC256  Algorithm = "ECC_256"
	ECC384  Algorithm = "ECC_384"
	RSA2048 Algorithm = "RSA_2048"
	RSA3072 Algorithm = "RSA_3072"
	RSA4096 Algorithm = "RSA_4096"
)

// ParseAlgorithm accepts ECC_256, ECC_384, RSA_2048, RSA_3072 and RSA_4096
// and the aliases P-256, P-384, EC256, RSA2048 and the like, in any case.
// Alibaba's RSA_1024, ECC_512 and SM2_256 are refused with the reason.
func ParseAlgorithm(s string) (Algorithm, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = dropSeparators.Replace(t)
	switch t {
	case "ECC256", "EC256", "ECDSA256", "P256", "ECDSAP256", "ECP256":
		return ECC256, nil
	case "ECC384", "EC384", "ECDSA384", "P384", "ECDSAP384", "ECP384":
		return ECC384, nil
	case "RSA2048", "RSA":
		return RSA2048, nil
	case "RSA3072":
		return RSA3072, nil
	case "RSA4096":
		return RSA4096, nil
	case "RSA1024":
		return "", fmt.Errorf("%w algorithm %q: RSA keys under 2048 bits are too weak to issue", ErrInvalid, s)
	case "ECC512", "ECC521", "P521":
		return "", fmt.Errorf("%w algorithm %q: P-521 is not supported (use ECC_256 or ECC_384)", ErrInvalid, s)
	case "SM2256", "SM2":
		return "", fmt.Errorf("%w algorithm %q: SM2 is not supported", ErrInvalid, s)
	}
	return "", fmt.Errorf("%w algorithm %q: want one of ECC_256, ECC_384, RSA_2048, RSA_3072, RSA_4096", ErrInvalid, s)
}

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

// Validate checks the subject fields against RFC 5280 upper bounds and
// the country against ISO 3166 form.
func (s Subject) Validate() error {
	check := func(name, v string, max int) error {
		if !utf8.ValidString(v) {
			return fmt.Errorf("%w subject: %s is not valid UTF-8", ErrInvalid, name)
		}
		if n := utf8.RuneCountInString(v); n > max {
			return fmt.Errorf("%w subject: %s is %d characters, at most %d allowed", ErrInvalid, name, n, max)
		}
		if strings.ContainsAny(v, "\x00\n\r") {
			return fmt.Errorf("%w subject: %s contains a control character", ErrInvalid, name)
		}
		return nil
	}
	if s.Country != "" {
		if len(s.Country) != 2 || strings.ToUpper(s.Country) != s.Country || !isAlpha(s.Country) {
			return fmt.Errorf("%w subject: country %q must be two upper-case letters (ISO 3166)", ErrInvalid, s.Country)
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

// Validity is how long a certificate is valid: Days, Months or Years from
// now (one of them), or an explicit NotBefore and NotAfter.
type Validity struct {
	Days      int
	Months    int
	Years     int
	NotBefore time.Time
	NotAfter  time.Time
}

// backdate is how far before "now" a certificate starts, for relying
// parties whose clocks run slow (cfssl's default).
const backdate = 5 * time.Minute

// window resolves v at now inside the issuing CA's validity [caFrom, caTo).
// A root passes its own window as zero times.
// Window resolves v at now inside the issuing CA's validity [caFrom, caTo),
// returning notBefore and notAfter. A root passes zero times.
func (v Validity) Window(now, caFrom, caTo time.Time) (time.Time, time.Time, error) {
	explicit := !v.NotBefore.IsZero() || !v.NotAfter.IsZero()
	var nb, na time.Time
	relative := 0
	for _, n := range []int{v.Days, v.Months, v.Years} {
		if n < 0 {
			return nb, na, fmt.Errorf("%w validity: days, months and years must be positive, got %d", ErrInvalid, n)
		}
		if n > 0 {
			relative++
		}
	}
	switch {
	case relative > 1 || (relative == 1 && explicit):
		return nb, na, fmt.Errorf("%w validity: give one of days, months, years or not-before/not-after, not both", ErrInvalid)
	case relative == 1:
		if v.Days > 100*366 || v.Months > 1200 || v.Years > 100 {
			return nb, na, fmt.Errorf("%w validity: more than 100 years", ErrInvalid)
		}
		nb = now.Add(-backdate).Truncate(time.Second)
		if nb.Before(caFrom) {
			nb = caFrom
		}
		na = now.Truncate(time.Second).AddDate(v.Years, v.Months, v.Days)
	case explicit:
		if v.NotBefore.IsZero() || v.NotAfter.IsZero() {
			return nb, na, fmt.Errorf("%w validity: not-before and not-after go together", ErrInvalid)
		}
		nb, na = v.NotBefore.UTC().Truncate(time.Second), v.NotAfter.UTC().Truncate(time.Second)
	default:
		return nb, na, fmt.Errorf("%w validity: give days or not-before/not-after", ErrInvalid)
	}
	if !na.After(nb) {
		return nb, na, fmt.Errorf("%w validity: not-after %s is not after not-before %s", ErrInvalid, na.Format(time.RFC3339), nb.Format(time.RFC3339))
	}
	if !na.After(now) {
		return nb, na, fmt.Errorf("%w validity: not-after %s is already past", ErrInvalid, na.Format(time.RFC3339))
	}
	if !caFrom.IsZero() && nb.Before(caFrom) {
		return nb, na, fmt.Errorf("%w validity: not-before %s is before the issuing CA's not-before %s", ErrInvalid, nb.Format(time.RFC3339), caFrom.UTC().Format(time.RFC3339))
	}
	if !caTo.IsZero() && na.After(caTo) {
		return nb, na, fmt.Errorf("%w validity: not-after %s is beyond the issuing CA's not-after %s", ErrInvalid, na.Format(time.RFC3339), caTo.UTC().Format(time.RFC3339))
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

// Empty reports whether s holds no name.
func (s SANs) Empty() bool {
	return len(s.DNSNames) == 0 && len(s.IPs) == 0 && len(s.Emails) == 0 && len(s.URIs) == 0
}

// ParseSAN sorts one name into s by its form: an IP address, an e-mail
// address (contains @), a URI (has a scheme), or else a DNS name. It is
// what the CLI and Alibaba's comma-separated Domain parameter use.
func (s *SANs) ParseSAN(v string) error {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return fmt.Errorf("%w SAN: empty name", ErrInvalid)
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
		if err := CheckDNSName(v); err != nil {
			return err
		}
		s.DNSNames = append(s.DNSNames, strings.ToLower(v))
	}
	return nil
}

// Validate checks every name's syntax.
func (s SANs) Validate() error {
	for _, n := range s.DNSNames {
		if err := CheckDNSName(n); err != nil {
			return err
		}
	}
	for _, ip := range s.IPs {
		if ip == nil || (ip.To4() == nil && len(ip) != net.IPv6len) {
			return fmt.Errorf("%w SAN: bad IP address %v", ErrInvalid, ip)
		}
	}
	for _, e := range s.Emails {
		if err := checkEmail(e); err != nil {
			return err
		}
	}
	for _, u := range s.URIs {
		if u == nil || u.Scheme == "" || (u.Host == "" && u.Opaque == "") {
			return fmt.Errorf("%w SAN: URI %v needs a scheme and an authority", ErrInvalid, u)
		}
		if err := checkURI(u); err != nil {
			return err
		}
	}
	return nil
}

func parseURI(v string) (*url.URL, error) {
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" || (u.Host == "" && u.Opaque == "") {
		return nil, fmt.Errorf("%w SAN: %q is not an absolute URI", ErrInvalid, v)
	}
	return u, checkURI(u)
}

// checkURI refuses a URI that crypto/x509 would refuse to parse back from a
// certificate: one whose text (u.String(), what the certificate holds) is
// not printable ASCII (uniformResourceIdentifier is an IA5String), or whose
// host, parsed back from that text, has an empty label or a character
// outside '!'..'~' ("spiffe://.td", "https://a..b", "https://bücher.example").
func checkURI(u *url.URL) error {
	s := u.String()
	// The signer takes SANs as strings and sorts them by form again
	// (cfssl's OverrideHosts): a URI that reads as an e-mail address
	// ("urn:x@y.z;") would be issued as one, and one with a fragment
	// ("spiffe://td/a#b") as another URI ("…/a%23b").
	if u.Fragment != "" || u.RawFragment != "" || strings.HasSuffix(s, "#") {
		return fmt.Errorf("%w SAN: URI %q has a fragment, which a certificate's URI SAN does not carry", ErrInvalid, s)
	}
	if _, err := mail.ParseAddress(s); err == nil {
		return fmt.Errorf("%w SAN: URI %q also reads as an e-mail address group (\"name: addr;\"), and would be issued as one", ErrInvalid, s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] > 0x7e || s[i] < 0x21 {
			return fmt.Errorf("%w SAN: URI %q must be printable ASCII (IA5String)", ErrInvalid, s)
		}
	}
	back, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%w SAN: URI %q does not parse back: %v", ErrInvalid, s, err)
	}
	if back.Host == "" {
		return nil
	}
	for _, label := range strings.Split(back.Host, ".") {
		if label == "" {
			return fmt.Errorf("%w SAN: URI %q has an empty label in its host", ErrInvalid, s)
		}
		for _, c := range label {
			if c < 0x21 || c > 0x7e {
				return fmt.Errorf("%w SAN: URI %q has a host that is not printable ASCII (use its xn-- form)", ErrInvalid, s)
			}
		}
	}
	return nil
}

func checkEmail(v string) error {
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || a.Name != "" {
		return fmt.Errorf("%w SAN: %q is not a plain e-mail address", ErrInvalid, v)
	}
	for _, c := range v {
		if c > 0x7e {
			return fmt.Errorf("%w SAN: e-mail %q must be ASCII (rfc822Name is IA5String)", ErrInvalid, v)
		}
	}
	return nil
}

// CheckDNSName accepts LDH labels, a leading "*." wildcard, at most 253
// characters and 63 per label.
func CheckDNSName(v string) error {
	bad := func(why string) error { return fmt.Errorf("%w SAN: DNS name %q %s", ErrInvalid, v, why) }
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

// Hosts returns every name as a string (the form cfssl takes).
func (s SANs) Hosts() []string {
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

// RootRequest asks for a new self-signed root CA.
type RootRequest struct {
	Subject   Subject // CommonName required
	Algorithm Algorithm
	Validity  Validity
	// PathLen is the basicConstraints path length: how many levels of sub
	// CAs may follow. Zero or negative leaves it unconstrained (a root that
	// could sign no CA would be useless: roots issue no leaves here).
	PathLen int
	Alias   string
	Tags    []Tag
}

// SubRequest asks for a sub CA signed by Parent.
type SubRequest struct {
	Parent    Identifier
	Subject   Subject // CommonName required
	Algorithm Algorithm
	Validity  Validity
	// PathLen is the basicConstraints path length of the new CA: 0 means it
	// issues only leaf certificates. It must be below the parent's.
	PathLen int
	// ExtKeyUsages limits what the new CA may sign (see CA.ExtKeyUsages);
	// CertMaxDays caps their validity in days (0: only the CA's own).
	ExtKeyUsages []EKU
	CertMaxDays  int
	Alias        string
	Tags         []Tag
}

// IssueRequest asks for a CLIENT or SERVER certificate from Issuer, a sub CA.
//
// Without CSR the CA generates a key pair of Algorithm (default ECC_256),
// returns it once in Issued.KeyPEM and keeps it sealed. With CSR (PEM or
// DER) the key is the CSR's; its signature must verify. Subject fields and
// SANs given here override the CSR's (field by field for the subject; as a
// whole for the SANs).
type IssueRequest struct {
	Issuer    Identifier
	Kind      Kind // KindClient or KindServer
	Subject   Subject
	SANs      SANs
	Algorithm Algorithm
	CSR       []byte
	Validity  Validity

	// OmitCRL leaves the CRL distribution point out of the certificate.
	OmitCRL bool

	// KeyUsages and ExtKeyUsages, when either is set, replace the CLIENT or
	// SERVER profile's usages (CreateCustomCertificate); each must be
	// allowed by every CA of the chain.
	KeyUsages    []KeyUsage
	ExtKeyUsages []EKU

	Alias            string
	CustomIdentifier string
	ResourceGroupID  string
	Tags             []Tag
}

// Issued is the result of Issue.
type Issued struct {
	Record Record
	// Chain is the issuing CA and its ancestors, issuing CA first.
	Chain []CA
	// KeyPEM is the generated private key as PKCS#8 PEM; nil for a CSR.
	KeyPEM []byte
}

// ChainPEM returns the issuing chain as concatenated PEM, issuing CA first.
func (i Issued) ChainPEM() []byte {
	var out []byte
	for _, c := range i.Chain {
		out = append(out, EncodeCertPEM(c.DER)...)
	}
	return out
}
