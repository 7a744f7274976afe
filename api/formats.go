package api

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math"
	"strings"
	"time"

	"github.com/certstatus/certstatus/certs"
)

// Value formats of Alibaba's answers, where they differ from Go's own
// spelling: programs written against Alibaba compare these as strings.

// numericID is the Id Alibaba's models carry for a certificate or CA (a
// number where certstatus has the identifier): the identifier's first 53
// bits, read as a big-endian number. The identifier is the SHA-256 of the
// certificate, so the number never changes, and 53 bits keep it exact in
// every JSON parser (JavaScript's doubles included); two of a million
// certificates share one with a probability of about 1 in 18,000.
func numericID(id certs.Identifier) int64 {
	b, err := hex.DecodeString(string(id))
	if err != nil || len(b) < 7 {
		return 0
	}
	var n uint64
	for _, c := range b[:7] {
		n = n<<8 | uint64(c)
	}
	return int64(n >> 3) // 56 bits read, 53 kept
}

// signAlgorithm is Alibaba's (Java's) name of a signature algorithm:
// SHA256WITHRSA, SHA256WITHECDSA, … rather than Go's SHA256-RSA and
// ECDSA-SHA256.
func signAlgorithm(a x509.SignatureAlgorithm) string {
	switch a {
	case x509.SHA1WithRSA:
		return "SHA1WITHRSA"
	case x509.SHA256WithRSA:
		return "SHA256WITHRSA"
	case x509.SHA384WithRSA:
		return "SHA384WITHRSA"
	case x509.SHA512WithRSA:
		return "SHA512WITHRSA"
	case x509.SHA256WithRSAPSS:
		return "SHA256WITHRSAANDMGF1"
	case x509.SHA384WithRSAPSS:
		return "SHA384WITHRSAANDMGF1"
	case x509.SHA512WithRSAPSS:
		return "SHA512WITHRSAANDMGF1"
	case x509.ECDSAWithSHA1:
		return "SHA1WITHECDSA"
	case x509.ECDSAWithSHA256:
		return "SHA256WITHECDSA"
	case x509.ECDSAWithSHA384:
		return "SHA384WITHECDSA"
	case x509.ECDSAWithSHA512:
		return "SHA512WITHECDSA"
	case x509.PureEd25519:
		return "ED25519"
	}
	return strings.ToUpper(strings.ReplaceAll(a.String(), "-", ""))
}

// subjectDN writes a subject in Alibaba's order and form,
// C=…,O=…,OU=…,L=…,ST=…,CN=…: the attributes present, no spaces, values
// escaped as RFC 4514 escapes them (Go's Name.String writes the reverse
// order, CN first).
func subjectDN(n pkix.Name) string {
	var parts []string
	add := func(key string, values ...string) {
		for _, v := range values {
			parts = append(parts, key+"="+escapeDN(v))
		}
	}
	add("C", n.Country...)
	add("O", n.Organization...)
	add("OU", n.OrganizationalUnit...)
	add("L", n.Locality...)
	add("ST", n.Province...)
	if n.CommonName != "" {
		add("CN", n.CommonName)
	}
	return strings.Join(parts, ",")
}

// escapeDN escapes an attribute value as RFC 4514 §2.4 requires.
func escapeDN(v string) string {
	var b strings.Builder
	for i, r := range v {
		switch {
		case strings.ContainsRune(",+\"\\<>;", r),
			i == 0 && (r == ' ' || r == '#'),
			i == len(v)-1 && r == ' ':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// listDate is ListCert's date form, 2024-05-13 12:59:45 (UTC).
func listDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateTime)
}

// listCertType is ListCert's CertificateType: Server, Client.
func listCertType(k certs.Kind) string {
	switch k {
	case certs.KindServer:
		return "Server"
	case certs.KindClient:
		return "Client"
	}
	return k.String()
}

// unlimitedCerts is the certificate quota of a certstatus CA
// (CertTotalCount): certstatus sells no quotas, so it is the largest number
// both models that carry it can hold (GetCAInstanceStatus types it int32).
const unlimitedCerts = math.MaxInt32

// quota returns a CA's CertTotalCount and CertRemainingCount for issued
// certificates: total ≥ issued and remaining = total − issued always.
func quota(issued int) (total, remaining int64) {
	total = max(unlimitedCerts, int64(issued))
	return total, total - int64(issued)
}

// caInstanceStatus is GetCaInstanceCrlAddress's CaInstanceStatus: normal,
// forbidden (disabled) or revoke, the lower-case words of Alibaba's
// CaStatus filter.
func caInstanceStatus(c certs.CA) string {
	if s := caStatus(c); s != "issue" {
		return s
	}
	return "normal"
}

// years is a validity in whole years, rounded (the Years fields).
func years(notBefore, notAfter time.Time) int {
	return int(notAfter.Sub(notBefore).Hours()/24/365 + 0.5)
}
