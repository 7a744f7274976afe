package ocspsign_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/ocspsign"
)

// keyKind is a signing key type, with the signature every answer signed by
// such a key must carry.
type keyKind struct {
	name   string
	gen    func() (crypto.Signer, error)
	sigAlg x509.SignatureAlgorithm
	oid    asn1.ObjectIdentifier // the AlgorithmIdentifier's OID
	null   bool                  // NULL parameters (RSA); absent otherwise
}

var keyKinds = []keyKind{
	{"P-256", ecKey(elliptic.P256()), x509.ECDSAWithSHA256, asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}, false},
	{"P-384", ecKey(elliptic.P384()), x509.ECDSAWithSHA384, asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}, false},
	{"RSA-2048", func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 2048) }, x509.SHA256WithRSA, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}, true},
	{"Ed25519", func() (crypto.Signer, error) { _, k, err := ed25519.GenerateKey(rand.Reader); return k, err }, x509.PureEd25519, asn1.ObjectIdentifier{1, 3, 101, 112}, false},
}

func ecKey(c elliptic.Curve) func() (crypto.Signer, error) {
	return func() (crypto.Signer, error) { return ecdsa.GenerateKey(c, rand.Reader) }
}

// keys caches the generated keys by kind and role: RSA generation is slow,
// and each test asks for the same few.
var keys struct {
	sync.Mutex
	m map[string]crypto.Signer
}

// key returns the key of kind k for role (the same key for the same role).
func key(t testing.TB, k keyKind, role string) crypto.Signer {
	t.Helper()
	keys.Lock()
	defer keys.Unlock()
	if keys.m == nil {
		keys.m = map[string]crypto.Signer{}
	}
	id := k.name + "/" + role
	if s, ok := keys.m[id]; ok {
		return s
	}
	s, err := k.gen()
	if err != nil {
		t.Fatal(err)
	}
	keys.m[id] = s
	return s
}

// newCA makes a self-signed CA certificate named cn with key, valid from
// an hour ago until notAfter.
func newCA(t testing.TB, cn string, key crypto.Signer, notAfter time.Time) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber:          randSerial(t),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"certstatus test"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              notAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	return create(t, tmpl, tmpl, key.Public(), key)
}

// newResponder makes a delegated responder certificate (id-kp-OCSPSigning)
// named cn for key, issued by ca with caKey.
func newResponder(t testing.TB, ca *x509.Certificate, caKey crypto.Signer, cn string, key crypto.Signer, notAfter time.Time) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: randSerial(t),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning},
	}
	return create(t, tmpl, ca, key.Public(), caKey)
}

func create(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, priv crypto.Signer) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func randSerial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	return n.Add(n, big.NewInt(1))
}

// pki is a CA of one key type with a delegated responder of the same type.
type pki struct {
	kind      keyKind
	ca        *x509.Certificate
	caKey     crypto.Signer
	resp      *x509.Certificate
	respKey   crypto.Signer
	caSigned  ocspsign.Issuer // the CA signs with its own key
	delegated ocspsign.Issuer // the responder signs
}

func newPKI(t testing.TB, k keyKind) pki {
	t.Helper()
	year := time.Now().Add(365 * 24 * time.Hour)
	p := pki{kind: k, caKey: key(t, k, "ca"), respKey: key(t, k, "responder")}
	p.ca = newCA(t, "Test CA "+k.name, p.caKey, year)
	p.resp = newResponder(t, p.ca, p.caKey, "Test Responder "+k.name, p.respKey, year)
	id := certs.IdentifierOf(p.ca.Raw)
	p.caSigned = ocspsign.Issuer{ID: id, Cert: p.ca, Signer: p.caKey}
	p.delegated = ocspsign.Issuer{ID: id, Cert: p.ca, Signer: p.respKey, SignerCert: p.resp}
	return p
}

func mustSigner(t testing.TB, is ocspsign.Issuer, p ocspsign.Policy) *ocspsign.Signer {
	t.Helper()
	s, err := ocspsign.New(is, p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// spkiBits is the subjectPublicKey BIT STRING of c, read with
// encoding/asn1 as x/crypto/ocsp reads it.
func spkiBits(t testing.TB, c *x509.Certificate) []byte {
	t.Helper()
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(c.RawSubjectPublicKeyInfo, &spki); err != nil {
		t.Fatal(err)
	}
	return spki.PublicKey.RightAlign()
}

func sha1Of(b []byte) []byte { s := sha1.Sum(b); return s[:] }

// The OCSPResponse of RFC 6960 §4.2.1 read with encoding/asn1, as
// x/crypto/ocsp declares it, plus what x/crypto drops: the
// responseExtensions, the CertID's exact bytes, and whether a revocation
// reason is present (Reason is -1 when absent).
type (
	rfcResponse struct {
		Status asn1.Enumerated
		Bytes  struct {
			Type     asn1.ObjectIdentifier
			Response []byte
		} `asn1:"explicit,tag:0,optional"`
	}
	rfcBasic struct {
		TBS          asn1.RawValue
		SigAlg       pkix.AlgorithmIdentifier
		Signature    asn1.BitString
		Certificates []asn1.RawValue `asn1:"explicit,tag:0,optional"`
	}
	rfcData struct {
		Version     int `asn1:"optional,default:0,explicit,tag:0"`
		ResponderID asn1.RawValue
		ProducedAt  time.Time `asn1:"generalized"`
		Responses   []rfcSingle
		Extensions  []pkix.Extension `asn1:"explicit,tag:1,optional"`
	}
	rfcSingle struct {
		CertID     asn1.RawValue
		Good       asn1.Flag        `asn1:"tag:0,optional"`
		Revoked    rfcRevoked       `asn1:"tag:1,optional"`
		Unknown    asn1.Flag        `asn1:"tag:2,optional"`
		ThisUpdate time.Time        `asn1:"generalized"`
		NextUpdate time.Time        `asn1:"generalized,explicit,tag:0,optional"`
		Extensions []pkix.Extension `asn1:"explicit,tag:1,optional"`
	}
	rfcRevoked struct {
		RevocationTime time.Time       `asn1:"generalized"`
		Reason         asn1.Enumerated `asn1:"explicit,tag:0,optional,default:-1"`
	}
)

// parsed is a response read by parseRFC.
type parsed struct {
	basic rfcBasic
	data  rfcData
}

var oidBasic = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}

// parseRFC reads a successful BasicOCSPResponse with encoding/asn1,
// refusing trailing data at every level.
func parseRFC(t testing.TB, der []byte) parsed {
	t.Helper()
	var r rfcResponse
	var p parsed
	if rest, err := asn1.Unmarshal(der, &r); err != nil || len(rest) > 0 {
		t.Fatalf("OCSPResponse: %v (%d bytes after)", err, len(rest))
	}
	if r.Status != 0 || !r.Bytes.Type.Equal(oidBasic) {
		t.Fatalf("responseStatus %d, responseType %v", r.Status, r.Bytes.Type)
	}
	if rest, err := asn1.Unmarshal(r.Bytes.Response, &p.basic); err != nil || len(rest) > 0 {
		t.Fatalf("BasicOCSPResponse: %v (%d bytes after)", err, len(rest))
	}
	if rest, err := asn1.Unmarshal(p.basic.TBS.FullBytes, &p.data); err != nil || len(rest) > 0 {
		t.Fatalf("ResponseData: %v (%d bytes after)", err, len(rest))
	}
	return p
}

func idOf(c *x509.Certificate) certs.Identifier { return certs.IdentifierOf(c.Raw) }
