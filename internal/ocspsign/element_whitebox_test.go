package ocspsign

import (
	"bytes"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// element is a rewrite of cryptobyte's element reading (for Made's cost
// on every pre-signed answer): it must agree with cryptobyte on every
// input that cryptobyte reads, and refuse what cryptobyte refuses,
// within its definite lengths of up to three octets.
func FuzzElement(f *testing.F) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddBytes(bytes.Repeat([]byte{1}, 300)) })
	long := b.BytesOrPanic()
	for _, seed := range [][]byte{{0x30, 0}, {0x04, 2, 'a', 'b', 'c'}, long, long[:100], {0x30, 0x81, 0x05, 1, 2}, {0x30, 0x80}, {0x30}, nil, answerBytes(f)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		tag, body, rest, ok := element(in)
		s := cryptobyte.String(in)
		var el cryptobyte.String
		var ctag cbasn1.Tag
		cok := s.ReadAnyASN1Element(&el, &ctag)
		if !ok && cok && len(in) >= 2 && (in[0]&0x1f == 0x1f || in[1] > 0x83) {
			return // outside what element reads (multi-octet tags, long lengths): it refuses them
		}
		if ok != cok {
			t.Fatalf("%x: element ok=%v, cryptobyte ok=%v", in, ok, cok)
		}
		if !ok {
			return
		}
		var cbody cryptobyte.String
		whole := cryptobyte.String(el)
		if !whole.ReadAnyASN1(&cbody, &ctag) {
			t.Fatalf("%x: cryptobyte cannot reread its element", in)
		}
		if tag != byte(ctag) || !bytes.Equal(body, cbody) || !bytes.Equal(rest, []byte(s)) {
			t.Fatalf("%x: element (%x, %x, %x), cryptobyte (%x, %x, %x)", in, tag, body, rest, byte(ctag), []byte(cbody), []byte(s))
		}
	})
}

// answerBytes is a real answer to seed with.
func answerBytes(t testing.TB) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Enum(0)
		b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) { b.AddASN1OctetString(bytes.Repeat([]byte{2}, 1000)) })
	})
	return b.BytesOrPanic()
}
