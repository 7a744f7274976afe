package responder_test

import (
	"bytes"
	"crypto"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/certstatus/certstatus/responder"
)

// The seed corpus of both fuzz targets starts from testdata/request/*.der:
//
//	openssl-*.der  written by `openssl ocsp -issuer ca.pem -cert leaf.pem -reqout`
//	               (OpenSSL 3.0): with the default 16-byte nonce, -no_nonce,
//	               -sha256, two -cert with -sha384 before the second, and
//	               -signer/-signkey (requestorName plus optionalSignature);
//	xcrypto-*.der  written by x/crypto's ocsp.CreateRequest (SHA-1/256/512).
//
// openssl-no-nonce.der and xcrypto-sha1.der are byte-identical.
func seedRequests(f *testing.F) [][]byte {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "request", "*.der"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no seed requests in testdata/request: %v", err)
	}
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// edgeRequests are hand-built requests at the limits ParseRequest checks.
func edgeRequests() [][]byte {
	many := func(n int) []idSpec {
		ids := make([]idSpec, n)
		for i := range ids {
			ids[i] = defaultID()
		}
		return ids
	}
	noKeyHash := defaultID()
	noKeyHash.keyHash = nil
	negative := defaultID()
	negative.serial = []byte{0x80}
	sha512 := defaultID()
	sha512.oid, sha512.nameHash, sha512.keyHash = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}, make([]byte, 64), make([]byte, 64)
	specs := []reqSpec{
		{ids: many(1), exts: []extSpec{nonceExt(0, false)}},
		{ids: many(1), exts: []extSpec{nonceExt(1, true)}},
		{ids: many(1), exts: []extSpec{nonceExt(128, false)}},
		{ids: many(1), exts: []extSpec{nonceExt(129, false)}},
		{ids: many(1), exts: []extSpec{{oid: oidNonce, value: nonceBytes(16)}}},
		{ids: many(1), exts: []extSpec{{oid: oidUnknown, critical: true}}},
		{ids: many(1), singleExts: []extSpec{{oid: oidUnknown, value: []byte{0x05, 0x00}}}},
		{ids: many(16)},
		{ids: many(17)},
		{},
		{version: []byte{1}, ids: many(1)},
		{requestor: true, signed: true, ids: []idSpec{noKeyHash, negative, sha512}},
		{ids: many(1), trailing: []byte{0}},
	}
	var out [][]byte
	for i := range specs {
		out = append(out, specs[i].der())
	}
	return out
}

func FuzzParseRequest(f *testing.F) {
	for _, b := range append(seedRequests(f), edgeRequests()...) {
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte{})
	f.Add([]byte{0x30, 0x00})
	f.Add([]byte{0x30, 0x80, 0x00, 0x00})
	f.Add([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, der []byte) {
		in := bytes.Clone(der)
		r, err := responder.ParseRequest(der)
		if !bytes.Equal(in, der) {
			t.Fatal("ParseRequest modified its input")
		}
		if err != nil {
			var re *responder.RequestError
			if !errors.As(err, &re) || re.Reason == "" {
				t.Fatalf("error %v is not a RequestError with a reason", err)
			}
			return
		}
		if n := len(r.CertIDs); n < 1 || n > responder.MaxCertIDs {
			t.Fatalf("%d CertIDs", n)
		}
		for i, id := range r.CertIDs {
			switch id.Hash {
			case crypto.SHA1, crypto.SHA256, crypto.SHA384, crypto.SHA512:
			default:
				t.Fatalf("CertID %d: hash %v", i, id.Hash)
			}
			if len(id.NameHash) != id.Hash.Size() || len(id.KeyHash) != 0 && len(id.KeyHash) != id.Hash.Size() {
				t.Fatalf("CertID %d: %v with name hash %x, key hash %x", i, id.Hash, id.NameHash, id.KeyHash)
			}
			if id.Serial == nil || len(id.Raw) == 0 || !bytes.Contains(der, id.Raw) {
				t.Fatalf("CertID %d: serial %v, Raw %x", i, id.Serial, id.Raw)
			}
		}
		if r.HasNonce != (r.Nonce != nil) || r.HasNonce && (len(r.Nonce) < 1 || len(r.Nonce) > 128) {
			t.Fatalf("HasNonce %v with nonce %x", r.HasNonce, r.Nonce)
		}
	})
}

func FuzzDecodeGET(f *testing.F) {
	for _, b := range seedRequests(f) {
		std := base64.StdEncoding.EncodeToString(b)
		f.Add("/"+std, "")
		f.Add("/ocsp//"+base64.RawURLEncoding.EncodeToString(b), "/ocsp")
		f.Add("/"+url.QueryEscape(std), "")
		f.Add("/"+strings.ReplaceAll(std, "+", " "), "")
		f.Add("/"+strings.ReplaceAll(std, "//", "/"), "")
	}
	for _, s := range []string{"", "/", "//", "/ocsp", "/ocsp/", "/%", "/%2", "/%252F", "/M", "/MA==", "/MAA", "/ \r\n", "/////M///"} {
		f.Add(s, "")
		f.Add(s, "/ocsp")
	}
	f.Fuzz(func(t *testing.T, path, prefix string) {
		der, err := responder.DecodeGET(path, prefix)
		if err != nil {
			if !errors.Is(err, responder.ErrBadGET) {
				t.Fatalf("error %v does not wrap ErrBadGET", err)
			}
			return
		}
		if len(der) == 0 || der[0] != 0x30 {
			t.Fatalf("DecodeGET(%q, %q) = %x", path, prefix, der)
		}
	})
}

// idSpec describes a hand-built CertID.
type idSpec struct {
	oid               asn1.ObjectIdentifier
	params            []byte // DER after the OID: NULL by default
	nameHash, keyHash []byte
	serial            []byte // INTEGER contents
	trailing          []byte
}

func defaultID() idSpec {
	return idSpec{
		oid:      asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26},
		params:   []byte{0x05, 0x00},
		nameHash: bytes.Repeat([]byte{0xaa}, 20),
		keyHash:  bytes.Repeat([]byte{0xbb}, 20),
		serial:   []byte{0x01, 0x02},
	}
}

func (id idSpec) der() []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(id.oid)
			b.AddBytes(id.params)
		})
		b.AddASN1OctetString(id.nameHash)
		b.AddASN1OctetString(id.keyHash)
		b.AddASN1(cbasn1.INTEGER, func(b *cryptobyte.Builder) { b.AddBytes(id.serial) })
		b.AddBytes(id.trailing)
	})
	return b.BytesOrPanic()
}

// extSpec describes a hand-built Extension.
type extSpec struct {
	oid           asn1.ObjectIdentifier
	critical      bool
	explicitFalse bool // encode critical FALSE (BER habit) instead of omitting it
	value         []byte
}

var (
	oidNonce   = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}
	oidUnknown = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 99}
)

// nonceExt is an RFC 9654 nonce extension of n octets (0x11, 0x22, ...).
func nonceExt(n int, critical bool) extSpec {
	var b cryptobyte.Builder
	b.AddASN1OctetString(nonceBytes(n))
	return extSpec{oid: oidNonce, critical: critical, value: b.BytesOrPanic()}
}

func nonceBytes(n int) []byte {
	v := make([]byte, n)
	for i := range v {
		v[i] = byte(0x11 * (i%15 + 1))
	}
	return v
}

func addExts(b *cryptobyte.Builder, tag cbasn1.Tag, exts []extSpec) {
	b.AddASN1(tag.Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for _, e := range exts {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(e.oid)
					if e.critical || e.explicitFalse {
						b.AddASN1Boolean(e.critical)
					}
					b.AddASN1OctetString(e.value)
				})
			}
		})
	})
}

// reqSpec describes a hand-built OCSPRequest.
type reqSpec struct {
	version     []byte // INTEGER contents of an explicit version; nil: absent
	requestor   bool   // add requestorName [1] directoryName
	ids         []idSpec
	singleExts  []extSpec // singleRequestExtensions of the first Request, if non-nil
	exts        []extSpec // requestExtensions, if non-nil
	signed      bool      // add an optionalSignature
	tbsTrailing []byte
	trailing    []byte
}

func (r *reqSpec) der() []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			if r.version != nil {
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.INTEGER, func(b *cryptobyte.Builder) { b.AddBytes(r.version) })
				})
			}
			if r.requestor {
				b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.Tag(4).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						b.AddBytes(mustMarshal(pkix.Name{CommonName: "requestor"}.ToRDNSequence()))
					})
				})
			}
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for i, id := range r.ids {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddBytes(id.der())
						if i == 0 && r.singleExts != nil {
							addExts(b, 0, r.singleExts)
						}
					})
				}
			})
			if r.exts != nil {
				addExts(b, 2, r.exts)
			}
			b.AddBytes(r.tbsTrailing)
		})
		if r.signed {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2})
					})
					b.AddASN1BitString(bytes.Repeat([]byte{0x5a}, 70))
				})
			})
		}
	})
	return append(b.BytesOrPanic(), r.trailing...)
}

func mustMarshal(v any) []byte {
	b, err := asn1.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// FuzzParseQuick: whatever the quick path takes, ParseRequest takes too, as
// one CertID with the same bytes and serial, without nonce or signature —
// so that the quick path never answers a request Respond would refuse or
// answer differently.
func FuzzParseQuick(f *testing.F) {
	w := newWorld(f, responder.Options{})
	for _, b := range append(append(seedRequests(f), edgeRequests()...), fuzzSeeds(w)...) {
		f.Add(b)
	}
	f.Add([]byte{0x30, 0x03, 0x30, 0x01, 0x30})
	f.Fuzz(func(t *testing.T, der []byte) {
		certID, serial, ok := w.rsp.QuickTakes(der)
		if !ok {
			return
		}
		r, err := responder.ParseRequest(der)
		if err != nil {
			t.Fatalf("quick path takes a request ParseRequest refuses: %v", err)
		}
		if len(r.CertIDs) != 1 || r.HasNonce || r.Signed {
			t.Fatalf("quick path takes %d CertIDs, nonce %v, signed %v", len(r.CertIDs), r.HasNonce, r.Signed)
		}
		id := r.CertIDs[0]
		if !bytes.Equal(id.Raw, certID) || id.Serial.Sign() < 0 || new(big.Int).SetBytes(serial).Cmp(id.Serial) != 0 {
			t.Fatalf("quick CertID % x serial % x; ParseRequest % x serial %v", certID, serial, id.Raw, id.Serial)
		}
	})
}

// FuzzQuickGET: a GET path the quick GET decoder takes decodes to what
// DecodeGET makes of it, for every request the quick path then takes.
func FuzzQuickGET(f *testing.F) {
	w := newWorld(f, responder.Options{})
	for _, b := range append(seedRequests(f), fuzzSeeds(w)...) {
		f.Add("/"+base64.StdEncoding.EncodeToString(b), "")
		f.Add("/ocsp//"+base64.RawURLEncoding.EncodeToString(b), "/ocsp")
		f.Add("/"+strings.ReplaceAll(base64.StdEncoding.EncodeToString(b), "+", " "), "")
	}
	f.Add("/"+strings.ReplaceAll(base64.StdEncoding.EncodeToString(seedRequests(f)[0]), "/", "%2f"), "")
	f.Add("/%4D%zz", "")
	f.Fuzz(func(t *testing.T, path, prefix string) {
		if strings.Contains(path, "%") {
			// A raw target: the escaped decoder must agree with
			// net/http's unescaping followed by the plain one.
			der, ok := responder.QuickGETEscaped(path)
			var want []byte
			wantOK := false
			if p, err := url.PathUnescape(path); err == nil {
				want, wantOK = responder.QuickGET(p, "")
			}
			if ok != wantOK || ok && !bytes.Equal(der, want) {
				t.Fatalf("QuickGETEscaped(%q) = % x, %v; unescape then QuickGET: % x, %v", path, der, ok, want, wantOK)
			}
			return
		}
		der, ok := responder.QuickGET(path, prefix)
		if !ok {
			return
		}
		if _, _, ok := w.rsp.QuickTakes(der); !ok {
			return
		}
		slow, err := responder.DecodeGET(path, prefix)
		if err != nil || !bytes.Equal(slow, der) {
			t.Fatalf("quick GET decodes %q to % x; DecodeGET: % x, %v", path, der, slow, err)
		}
	})
}

// AppendBase64 decodes what encoding/base64 encodes, in all four forms,
// and refuses what is not base64.
func TestAppendBase64(t *testing.T) {
	for n := 0; n < 70; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*151 + n*7)
		}
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			got, ok := responder.AppendBase64([]byte("x"), enc.EncodeToString(b))
			if !ok || !bytes.Equal(got, append([]byte("x"), b...)) {
				t.Fatalf("%d bytes: %x, %v", n, got, ok)
			}
		}
	}
	for _, bad := range []string{"A", "AAAAA", "AA=A", "AA*A", "AA\nA", "A A="} {
		if _, ok := responder.AppendBase64(nil, bad); ok {
			t.Errorf("%q decoded", bad)
		}
	}
}
