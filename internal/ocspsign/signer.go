package ocspsign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/certstatus/certstatus/certs"
)

// Issuer is a CA answers are signed for, and how it signs them.
type Issuer struct {
	ID   certs.Identifier
	Cert *x509.Certificate // the CA certificate
	// Signer signs the answers: a delegated responder's key, or the CA's
	// own key when SignerCert is nil.
	Signer crypto.Signer
	// SignerCert is the delegated responder certificate (id-kp-OCSPSigning);
	// nil when the CA signs itself. Every answer includes the certificate
	// of its signer: SignerCert, or Cert when the CA signs (clients such as
	// Apache's SSLOCSPEnable look for the signer there and nowhere else).
	SignerCert *x509.Certificate
}

// Hashes are the algorithms CertIDs may use (RFC 9919 adds SHA-256+).
var Hashes = []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA384, crypto.SHA512}

var hashOIDs = map[crypto.Hash]asn1.ObjectIdentifier{
	crypto.SHA1:   {1, 3, 14, 3, 2, 26},
	crypto.SHA256: {2, 16, 840, 1, 101, 3, 4, 2, 1},
	crypto.SHA384: {2, 16, 840, 1, 101, 3, 4, 2, 2},
	crypto.SHA512: {2, 16, 840, 1, 101, 3, 4, 2, 3},
}

// HashOf returns the CertID hash algorithm an OID names, and false for
// any other OID.
func HashOf(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	for _, h := range Hashes {
		if oid.Equal(hashOIDs[h]) {
			return h, true
		}
	}
	return 0, false
}

// Signer is an Issuer prepared for signing: its CertID hashes for every
// algorithm and everything constant in its answers. It is immutable and
// safe for concurrent use.
type Signer struct {
	Issuer
	policy   Policy
	nameHash map[crypto.Hash][]byte
	keyHash  map[crypto.Hash][]byte
	// prefix is the canonical encoding of a CertID's fields before the
	// serial, per hash.
	prefix map[crypto.Hash][]byte
	// responderID is the encoded ResponderID (byKey [2] or byName [1]).
	responderID []byte
	// sigAlg is the encoded AlgorithmIdentifier of the signature, sigHash
	// the digest signed (0 for Ed25519), sigOpts the signer options.
	sigAlg  []byte
	sigHash crypto.Hash
	sigOpts crypto.SignerOpts
	// certs is the encoded [0] EXPLICIT SEQUENCE OF Certificate: the
	// signer's certificate.
	certs []byte
	// caKeyID and caCerts are the byKey ResponderID and the certs of an
	// answer the CA signs itself: a delegated signer's Made refuses them.
	caKeyID, caCerts []byte
	// notAfter bounds every nextUpdate: no answer outlives its signer.
	notAfter time.Time
}

var (
	tagExplicit0 = cbasn1.Tag(0).Constructed().ContextSpecific()
	tagExplicit1 = cbasn1.Tag(1).Constructed().ContextSpecific()
	tagExplicit2 = cbasn1.Tag(2).Constructed().ContextSpecific()
)

// SPKIBits returns the subjectPublicKey BIT STRING contents of a
// certificate: the bytes RFC 6960 §4.1.1 hashes for issuerKeyHash (never
// the SKI extension, which is often something else).
func SPKIBits(c *x509.Certificate) ([]byte, error) {
	spki := cryptobyte.String(c.RawSubjectPublicKeyInfo)
	var seq, alg cryptobyte.String
	var bits asn1.BitString
	if !spki.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1(&alg, cbasn1.SEQUENCE) || !seq.ReadASN1BitString(&bits) {
		return nil, errors.New("ocspsign: cannot read the certificate's subjectPublicKeyInfo")
	}
	return bits.Bytes, nil
}

// New prepares is for signing under policy p (resolved: see Policy.Resolve).
func New(is Issuer, p Policy) (*Signer, error) {
	p, err := p.Resolve()
	if err != nil {
		return nil, err
	}
	if is.Cert == nil || is.Signer == nil {
		return nil, fmt.Errorf("ocspsign: issuer %s needs a certificate and a signer", is.ID)
	}
	s := &Signer{Issuer: is, policy: p, nameHash: map[crypto.Hash][]byte{}, keyHash: map[crypto.Hash][]byte{}, prefix: map[crypto.Hash][]byte{}}
	key, err := SPKIBits(is.Cert)
	if err != nil {
		return nil, err
	}
	for _, h := range Hashes {
		hn := h.New()
		hn.Write(is.Cert.RawSubject)
		s.nameHash[h] = hn.Sum(nil)
		hk := h.New()
		hk.Write(key)
		s.keyHash[h] = hk.Sum(nil)
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(hashOIDs[h])
			b.AddASN1NULL()
		})
		b.AddASN1OctetString(s.nameHash[h])
		b.AddASN1OctetString(s.keyHash[h])
		if s.prefix[h], err = b.Bytes(); err != nil {
			return nil, err
		}
	}
	signerCert := is.Cert
	s.notAfter = is.Cert.NotAfter
	if is.SignerCert != nil {
		signerCert = is.SignerCert
		s.notAfter = is.SignerCert.NotAfter
	}
	if is.SignerCert != nil || !p.OmitCACert {
		if s.certs, err = certsField(signerCert); err != nil {
			return nil, err
		}
	}
	if s.caCerts, err = certsField(is.Cert); err != nil {
		return nil, err
	}
	if s.caKeyID, err = byKeyID(key); err != nil {
		return nil, err
	}
	if !publicKeyMatches(is.Signer.Public(), signerCert.PublicKey) {
		return nil, fmt.Errorf("ocspsign: issuer %s: the signer's key is not the signing certificate's", is.ID)
	}
	if p.ByName {
		var b cryptobyte.Builder
		b.AddASN1(tagExplicit1, func(b *cryptobyte.Builder) { b.AddBytes(signerCert.RawSubject) })
		s.responderID, err = b.Bytes()
	} else {
		var bits []byte
		if bits, err = SPKIBits(signerCert); err == nil {
			s.responderID, err = byKeyID(bits)
		}
	}
	if err != nil {
		return nil, err
	}
	s.sigAlg, s.sigHash, s.sigOpts, err = signatureAlgorithm(is.Signer.Public())
	return s, err
}

// certsField encodes the certs field of a BasicOCSPResponse holding c:
// [0] EXPLICIT SEQUENCE OF Certificate.
func certsField(c *x509.Certificate) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddBytes(c.Raw) })
	})
	return b.Bytes()
}

// byKeyID encodes the byKey ResponderID of a key: the SHA-1 of its
// subjectPublicKey bits (RFC 6960 §4.2.1).
func byKeyID(bits []byte) ([]byte, error) {
	sum := sha1.Sum(bits)
	var b cryptobyte.Builder
	b.AddASN1(tagExplicit2, func(b *cryptobyte.Builder) { b.AddASN1OctetString(sum[:]) })
	return b.Bytes()
}

// Policy is the policy s signs under.
func (s *Signer) Policy() Policy { return s.policy }

// NameHash is the issuerNameHash of s's CA under h.
func (s *Signer) NameHash(h crypto.Hash) []byte { return s.nameHash[h] }

// KeyHash is the issuerKeyHash of s's CA under h.
func (s *Signer) KeyHash(h crypto.Hash) []byte { return s.keyHash[h] }

// NotAfter is the end of the signer's validity: no nextUpdate is later.
func (s *Signer) NotAfter() time.Time { return s.notAfter }

func publicKeyMatches(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}

var (
	oidECDSASHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSASHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSASHA512 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidRSASHA256   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidRSASHA384   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidRSASHA512   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidEd25519     = asn1.ObjectIdentifier{1, 3, 101, 112}
)

// signatureAlgorithm picks the signature for a key: ECDSA with the hash
// matching the curve, RSA PKCS#1 v1.5 with SHA-256 (SHA-384/512 for larger
// keys), or Ed25519. RSA parameters are NULL, ECDSA and Ed25519 absent
// (RFC 5758, RFC 8410).
func signatureAlgorithm(pub crypto.PublicKey) ([]byte, crypto.Hash, crypto.SignerOpts, error) {
	var (
		oid  asn1.ObjectIdentifier
		h    crypto.Hash
		null bool
	)
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			oid, h = oidECDSASHA256, crypto.SHA256
		case elliptic.P384():
			oid, h = oidECDSASHA384, crypto.SHA384
		case elliptic.P521():
			oid, h = oidECDSASHA512, crypto.SHA512
		default:
			return nil, 0, nil, errors.New("ocspsign: unsupported curve")
		}
	case *rsa.PublicKey:
		null = true
		switch n := k.N.BitLen(); {
		case n >= 4096:
			oid, h = oidRSASHA512, crypto.SHA512
		case n >= 3072:
			oid, h = oidRSASHA384, crypto.SHA384
		default:
			oid, h = oidRSASHA256, crypto.SHA256
		}
	case ed25519.PublicKey:
		oid = oidEd25519
	default:
		return nil, 0, nil, fmt.Errorf("ocspsign: unsupported signer key %T", pub)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		if null {
			b.AddASN1NULL()
		}
	})
	der, err := b.Bytes()
	if h == 0 {
		return der, 0, crypto.Hash(0), err
	}
	return der, h, h, err
}
