package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"

	"github.com/cloudflare/cfssl/signer"
	"github.com/cloudflare/cfssl/signer/local"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/certstatus/certstatus/certs"
)

// A leaf whose key the CA generates is built here rather than through
// cfssl's signer, for speed: cfssl signs a CSR, so a generated key cost a
// CSR (signature and verification), cfssl's check of it (verification) and
// x509.CreateCertificate's check of the certificate's own signature
// (verification) — three P-256 verifications, each the price of three or
// four signatures, on top of the one signature the certificate needs.
//
// The template is still cfssl's (OverrideHosts, Subject.Name, FillTemplate:
// the same usages, SKI, AIA, CRL and validity as a CSR signed by sign), and
// TestLeaf_SameAsCFSSL holds the encoding to x509.CreateCertificate's byte
// for byte. The signature is checked only when the CA key is not one of Go's
// own (an external signer, Options.SignerFor), as x509 would check it.

// leafTemplate is the template cfssl's local signer builds for a CSR of pub
// carrying subj and hosts, signed with profile p.
func leafTemplate(pub crypto.PublicKey, subj certs.Subject, hosts []string, p profile, serial *big.Int) (*x509.Certificate, error) {
	if p.isCA || p.anyPolicy || p.ocspNoCheck {
		return nil, errors.New("ca: leaf template: not a leaf profile")
	}
	t := &x509.Certificate{PublicKey: pub, SerialNumber: serial, ExtraExtensions: []pkix.Extension{}}
	local.OverrideHosts(t, hosts)
	t.Subject = subjectOverride(subj).Name()
	sp := p.cfssl().Default
	if err := signer.FillTemplate(t, sp, sp, p.notBefore, p.notAfter); err != nil {
		return nil, fmt.Errorf("ca: leaf template: %w", err)
	}
	return t, nil
}

// signLeaf issues the certificate sign would issue for a CSR of pub with
// subj and hosts, without the CSR. It returns the template too, with the
// serial and validity as encoded (whole seconds, UTC): what
// x509.ParseCertificate would say of them.
func signLeaf(caKey crypto.Signer, caCert *x509.Certificate, p profile, pub crypto.PublicKey, serial *big.Int, hosts []string, subj certs.Subject) ([]byte, *x509.Certificate, error) {
	t, err := leafTemplate(pub, subj, hosts, p, serial)
	if err != nil {
		return nil, nil, err
	}
	t.NotBefore = t.NotBefore.UTC().Truncate(time.Second)
	t.NotAfter = t.NotAfter.UTC().Truncate(time.Second)
	der, err := createLeaf(t, caCert, caKey)
	if err != nil {
		return nil, nil, err
	}
	return der, t, nil
}

// sigAlg is how a CA key signs: what cfssl's DefaultSigAlgo picks.
type sigAlg struct {
	oid    asn1.ObjectIdentifier
	null   bool // RSA PKCS #1 v1.5 identifiers carry NULL parameters
	hash   crypto.Hash
	native bool // a Go key, whose signatures need no check
}

func sigAlgFor(key crypto.Signer) (sigAlg, error) {
	var a sigAlg
	switch pub := key.Public().(type) {
	case *ecdsa.PublicKey:
		switch pub.Curve {
		case elliptic.P256():
			a = sigAlg{oid: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}, hash: crypto.SHA256}
		case elliptic.P384():
			a = sigAlg{oid: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}, hash: crypto.SHA384}
		case elliptic.P521():
			a = sigAlg{oid: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}, hash: crypto.SHA512}
		default:
			return a, fmt.Errorf("%w: curve %s", errLeafKey, pub.Curve.Params().Name)
		}
		_, a.native = key.(*ecdsa.PrivateKey)
	case *rsa.PublicKey:
		switch n := pub.N.BitLen(); {
		case n >= 4096:
			a = sigAlg{oid: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}, null: true, hash: crypto.SHA512}
		case n >= 3072:
			a = sigAlg{oid: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}, null: true, hash: crypto.SHA384}
		case n >= 2048:
			a = sigAlg{oid: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}, null: true, hash: crypto.SHA256}
		default:
			return a, fmt.Errorf("%w: RSA key of %d bits", errLeafKey, n)
		}
		_, a.native = key.(*rsa.PrivateKey)
	case ed25519.PublicKey:
		a = sigAlg{oid: asn1.ObjectIdentifier{1, 3, 101, 112}} // PureEd25519: the TBS itself is signed
		_, a.native = key.(ed25519.PrivateKey)
	default:
		return a, fmt.Errorf("%w: CA key type %T", errLeafKey, pub)
	}
	return a, nil
}

// errLeafKey is sigAlgFor's refusal of a CA key it has no encoding for
// (RSA under 2048 bits and curves other than P-256/384/521, which cfssl
// signs with SHA-1): Issue then takes cfssl's path, as it always did.
var errLeafKey = errors.New("ca: no leaf encoding for this CA key")

func (a sigAlg) add(b *cryptobyte.Builder) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(a.oid)
		if a.null {
			b.AddASN1NULL()
		}
	})
}

// createLeaf signs t, a leafTemplate, with the CA's key: the certificate
// x509.CreateCertificate(rand.Reader, t, parent, t.PublicKey, key) would
// make, without its verification of a signature a Go key made.
func createLeaf(t, parent *x509.Certificate, key crypto.Signer) ([]byte, error) {
	alg, err := sigAlgFor(key)
	if err != nil {
		return nil, err
	}
	tbs, err := leafTBS(t, parent, alg)
	if err != nil {
		return nil, err
	}
	digest := tbs
	if alg.hash != 0 {
		h := alg.hash.New()
		h.Write(tbs)
		digest = h.Sum(nil)
	}
	sig, err := key.Sign(rand.Reader, digest, alg.hash)
	if err != nil {
		return nil, fmt.Errorf("ca: sign certificate: %w", err)
	}
	b := cryptobyte.NewBuilder(make([]byte, 0, len(tbs)+32+len(sig)))
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		alg.add(b)
		addBitString(b, sig)
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("ca: encode certificate: %w", err)
	}
	if !alg.native {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("ca: signer made an unparsable certificate: %w", err)
		}
		if err := c.CheckSignatureFrom(parent); err != nil {
			return nil, fmt.Errorf("ca: signature returned by signer is invalid: %w", err)
		}
	}
	return der, nil
}

var (
	oidKeyUsage      = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidExtKeyUsage   = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidSKI           = asn1.ObjectIdentifier{2, 5, 29, 14}
	oidAKI           = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidAIA           = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 1}
	oidAccessOCSP    = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1}
	oidAccessIssuers = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 2}
	oidSAN           = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidCRLDP         = asn1.ObjectIdentifier{2, 5, 29, 31}
)

// extKeyUsageOIDs are the extended key usages cfssl's profiles name.
var extKeyUsageOIDs = map[x509.ExtKeyUsage]asn1.ObjectIdentifier{
	x509.ExtKeyUsageAny:                        {2, 5, 29, 37, 0},
	x509.ExtKeyUsageServerAuth:                 {1, 3, 6, 1, 5, 5, 7, 3, 1},
	x509.ExtKeyUsageClientAuth:                 {1, 3, 6, 1, 5, 5, 7, 3, 2},
	x509.ExtKeyUsageCodeSigning:                {1, 3, 6, 1, 5, 5, 7, 3, 3},
	x509.ExtKeyUsageEmailProtection:            {1, 3, 6, 1, 5, 5, 7, 3, 4},
	x509.ExtKeyUsageIPSECEndSystem:             {1, 3, 6, 1, 5, 5, 7, 3, 5},
	x509.ExtKeyUsageIPSECTunnel:                {1, 3, 6, 1, 5, 5, 7, 3, 6},
	x509.ExtKeyUsageIPSECUser:                  {1, 3, 6, 1, 5, 5, 7, 3, 7},
	x509.ExtKeyUsageTimeStamping:               {1, 3, 6, 1, 5, 5, 7, 3, 8},
	x509.ExtKeyUsageOCSPSigning:                {1, 3, 6, 1, 5, 5, 7, 3, 9},
	x509.ExtKeyUsageMicrosoftServerGatedCrypto: {1, 3, 6, 1, 4, 1, 311, 10, 3, 3},
	x509.ExtKeyUsageNetscapeServerGatedCrypto:  {2, 16, 840, 1, 113730, 4, 1},
}

// leafTBS encodes t's TBSCertificate as x509.CreateCertificate does for a
// non-CA template with no policies, name constraints or raw fields; it
// refuses any template field it does not encode.
func leafTBS(t, parent *x509.Certificate, alg sigAlg) ([]byte, error) {
	switch {
	case t.IsCA, !t.BasicConstraintsValid, t.MaxPathLen != 0 && t.MaxPathLen != -1, t.MaxPathLenZero:
		return nil, errors.New("ca: leaf: basic constraints of a CA")
	case len(t.PolicyIdentifiers) > 0, len(t.Policies) > 0, len(t.UnknownExtKeyUsage) > 0,
		t.PermittedDNSDomainsCritical, len(t.PermittedDNSDomains) > 0, len(t.ExcludedDNSDomains) > 0,
		len(t.PermittedIPRanges) > 0, len(t.ExcludedIPRanges) > 0, len(t.PermittedEmailAddresses) > 0,
		len(t.ExcludedEmailAddresses) > 0, len(t.PermittedURIDomains) > 0, len(t.ExcludedURIDomains) > 0,
		len(t.ExtraExtensions) > 0, len(t.RawSubject) > 0, len(t.AuthorityKeyId) > 0:
		return nil, errors.New("ca: leaf: template has fields only x509.CreateCertificate encodes")
	case t.SerialNumber == nil || t.SerialNumber.Sign() <= 0:
		return nil, errors.New("ca: leaf: serial number must be positive")
	case t.KeyUsage < 0 || t.KeyUsage > x509.KeyUsageDecipherOnly<<1-1:
		return nil, fmt.Errorf("ca: leaf: key usage %#x beyond decipherOnly", t.KeyUsage)
	}
	spki, err := x509.MarshalPKIXPublicKey(t.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("ca: leaf: %w", err)
	}
	subject, err := asn1.Marshal(t.Subject.ToRDNSequence())
	if err != nil {
		return nil, fmt.Errorf("ca: leaf: subject: %w", err)
	}
	issuer := parent.RawSubject
	if len(issuer) == 0 {
		return nil, errors.New("ca: leaf: issuing certificate has no subject")
	}
	var aki []byte
	if string(issuer) != string(subject) {
		aki = parent.SubjectKeyId
	}
	b := cryptobyte.NewBuilder(make([]byte, 0, 1024))
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1Int64(2)
		})
		b.AddASN1BigInt(t.SerialNumber)
		alg.add(b)
		b.AddBytes(issuer)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			addTime(b, t.NotBefore)
			addTime(b, t.NotAfter)
		})
		b.AddBytes(subject)
		b.AddBytes(spki)
		b.AddASN1(cbasn1.Tag(3).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				addLeafExtensions(b, t, aki, len(subject) == 2)
			})
		})
	})
	return b.Bytes()
}

// addLeafExtensions writes the extensions in x509's order: key usage,
// extended key usage, basic constraints, SKI, AKI, AIA, SAN, CRL
// distribution points.
func addLeafExtensions(b *cryptobyte.Builder, t *x509.Certificate, aki []byte, emptySubject bool) {
	if t.KeyUsage != 0 {
		addExtension(b, oidKeyUsage, true, func(b *cryptobyte.Builder) {
			v := [2]byte{reverseBits(byte(t.KeyUsage)), reverseBits(byte(t.KeyUsage >> 8))}
			bits := v[:1]
			if v[1] != 0 {
				bits = v[:2]
			}
			unused := 0
			for last := bits[len(bits)-1]; last&(1<<unused) == 0; unused++ {
			}
			b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) {
				b.AddUint8(uint8(unused))
				b.AddBytes(bits)
			})
		})
	}
	if len(t.ExtKeyUsage) > 0 {
		addExtension(b, oidExtKeyUsage, false, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, u := range t.ExtKeyUsage {
					oid, ok := extKeyUsageOIDs[u]
					if !ok {
						b.SetError(fmt.Errorf("ca: leaf: unknown extended key usage %d", u))
						return
					}
					b.AddASN1ObjectIdentifier(oid)
				}
			})
		})
	}
	addExtension(b, oidBasicConstraints, true, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(*cryptobyte.Builder) {})
	})
	if len(t.SubjectKeyId) > 0 {
		addExtension(b, oidSKI, false, func(b *cryptobyte.Builder) {
			b.AddASN1OctetString(t.SubjectKeyId)
		})
	}
	if len(aki) > 0 {
		addExtension(b, oidAKI, false, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(aki) })
			})
		})
	}
	if len(t.OCSPServer) > 0 || len(t.IssuingCertificateURL) > 0 {
		addExtension(b, oidAIA, false, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				access := func(method asn1.ObjectIdentifier, urls []string) {
					for _, u := range urls {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1ObjectIdentifier(method)
							addIA5(b, 6, u)
						})
					}
				}
				access(oidAccessOCSP, t.OCSPServer)
				access(oidAccessIssuers, t.IssuingCertificateURL)
			})
		})
	}
	if len(t.DNSNames) > 0 || len(t.EmailAddresses) > 0 || len(t.IPAddresses) > 0 || len(t.URIs) > 0 {
		addExtension(b, oidSAN, emptySubject, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, n := range t.DNSNames {
					addIA5(b, 2, n)
				}
				for _, e := range t.EmailAddresses {
					addIA5(b, 1, e)
				}
				for _, ip := range t.IPAddresses {
					if ip4 := ip.To4(); ip4 != nil {
						ip = ip4
					} else if len(ip) != net.IPv6len {
						b.SetError(fmt.Errorf("ca: leaf: IP address of %d bytes", len(ip)))
						return
					}
					b.AddASN1(cbasn1.Tag(7).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(ip) })
				}
				for _, u := range t.URIs {
					addIA5(b, 6, u.String())
				}
			})
		})
	}
	if len(t.CRLDistributionPoints) > 0 {
		addExtension(b, oidCRLDP, false, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, u := range t.CRLDistributionPoints {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
							b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
								addIA5(b, 6, u)
							})
						})
					})
				}
			})
		})
	}
}

// addExtension writes one Extension; value writes its extnValue's content.
func addExtension(b *cryptobyte.Builder, oid asn1.ObjectIdentifier, critical bool, value func(*cryptobyte.Builder)) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		if critical {
			b.AddASN1Boolean(true)
		}
		b.AddASN1(cbasn1.OCTET_STRING, value)
	})
}

// addIA5 writes a context-specific IA5String GeneralName, refusing what
// x509 refuses (anything outside ASCII).
func addIA5(b *cryptobyte.Builder, tag cbasn1.Tag, s string) {
	for i := 0; i < len(s); i++ {
		if s[i] > 0x7f {
			b.SetError(fmt.Errorf("ca: leaf: %q cannot be encoded as an IA5String", s))
			return
		}
	}
	b.AddASN1(tag.ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(s)) })
}

func addBitString(b *cryptobyte.Builder, v []byte) {
	b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) {
		b.AddUint8(0)
		b.AddBytes(v)
	})
}

// addTime writes a Validity time as encoding/asn1 does: UTCTime from 1950
// to 2049, GeneralizedTime otherwise.
func addTime(b *cryptobyte.Builder, t time.Time) {
	t = t.UTC()
	if y := t.Year(); y >= 1950 && y < 2050 {
		b.AddASN1UTCTime(t)
	} else {
		b.AddASN1GeneralizedTime(t)
	}
}

func reverseBits(in byte) byte {
	var out byte
	for i := 0; i < 8; i++ {
		out = out<<1 | in&1
		in >>= 1
	}
	return out
}
