package db

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
)

// update rewrites the golden files, as in x/crypto's ssh/test: run
// `go test ./db -run Golden -update` after an intended, backward-compatible
// change to the encoding, and review the diff.
var update = flag.Bool("update", false, "rewrite the golden files in testdata/encoding")

var (
	goldenRecord = certs.Record{
		Identifier: "00112233445566778899aabbccddeeff", Issuer: "ffeeddccbbaa99887766554433221100",
		Serial: "1f2e3d4c5b6a79880102030405060708090a0b0c", Kind: certs.KindServer, DER: []byte("fixed DER bytes"),
		NotBefore: gt("2025-01-02T03:04:05Z"), NotAfter: gt("2026-01-02T03:04:05Z"),
		State: certs.StateRevoked, RevokedAt: gt("2025-06-07T08:09:10.123456Z"), Reason: certs.KeyCompromise,
		Deleted: true, DeletedAt: gt("2025-06-08T00:00:00.000001Z"),
		Alias: "web-1", CustomIdentifier: "order-42", ResourceGroupID: "rg-7",
		Tags:      []certs.Tag{{Key: "env", Value: "prod"}, {Key: "", Value: ""}, {Key: "ü", Value: "snow ☃"}},
		SealedKey: []byte{0x00, 0x01, 0xfe, 0xff}, CreatedAt: gt("2025-01-02T03:04:06.5Z"),
	}
	goldenCases = []goldenCase{
		recordCase("record-full", goldenRecord),
		recordCase("record-minimal", certs.Record{Identifier: "00112233445566778899aabbccddeeff",
			Issuer: "ffeeddccbbaa99887766554433221100", Serial: "0", Kind: certs.KindClient, DER: []byte{0x30}, State: certs.StateIssued}),
		recordCase("record-extreme-times", certs.Record{Identifier: "00112233445566778899aabbccddeeff", State: certs.StateIssued,
			NotBefore: gt("1950-01-01T00:00:00Z"), NotAfter: gt("9999-12-31T23:59:59Z"), CreatedAt: time.Unix(0, 0).UTC()}),
		caCase("ca-root", certs.CA{Identifier: "0f0e0d0c0b0a09080706050403020100", Kind: certs.KindRootCA, Serial: "1",
			DER: []byte("root DER"), NotBefore: gt("2025-01-01T00:00:00Z"), NotAfter: gt("2045-01-01T00:00:00Z"), PathLen: -1,
			State: certs.StateIssued, Disabled: true, Alias: "root", ResourceGroupID: "rg-1",
			Tags: []certs.Tag{{Key: "k", Value: "v"}}, SealedKey: []byte("sealed"), CreatedAt: gt("2025-01-01T00:00:01Z")}),
		caCase("ca-sub-revoked", certs.CA{Identifier: "1f1e1d1c1b1a19181716151413121110", Parent: "0f0e0d0c0b0a09080706050403020100",
			Kind: certs.KindSubCA, Serial: "ab", DER: []byte("sub DER"), PathLen: 0,
			State: certs.StateRevoked, RevokedAt: gt("2025-02-03T04:05:06.000007Z"), Reason: certs.CACompromise}),
		accessKeyCase("accesskey-full", certs.AccessKey{ID: "LTAI5tExample", SealedSecret: []byte("sealed secret"),
			Owner: "alice", Policy: `{"Version":"1","Statement":[]}`, QPS: 100, Disabled: true, CreatedAt: gt("2025-03-04T05:06:07.000008Z")}),
		accessKeyCase("accesskey-minimal", certs.AccessKey{ID: "k", SealedSecret: []byte{1}}),
		caCase("ca-sub-constrained", certs.CA{Identifier: "2f2e2d2c2b2a29282726252423222120", Parent: "0f0e0d0c0b0a09080706050403020100",
			Kind: certs.KindSubCA, Serial: "cd", DER: []byte("constrained sub DER"), PathLen: 0, State: certs.StateIssued,
			ExtKeyUsages: []certs.EKU{certs.EKUServerAuth, certs.EKUClientAuth}, CertMaxDays: 397}),
		settingsCase("settings-full", certs.Settings{OCSPURL: "https://ocsp.example.com/ocsp", CRLBaseURL: "https://pki.example.com",
			OCSPValidity: 48 * time.Hour, OCSPResponderValidity: 720 * time.Hour, OCSPSignWithCA: true, OCSPResponderID: certs.ResponderIDByName}),
		settingsCase("settings-omit-ca-cert", certs.Settings{OCSPURL: "https://ocsp.example.com", CRLBaseURL: "https://ocsp.example.com",
			OCSPValidity: 24 * time.Hour, OCSPResponderValidity: 720 * time.Hour, OCSPSignWithCA: true, OCSPResponderID: certs.ResponderIDByKey, OCSPOmitCACert: true}),
	}
)

// gt parses a fixed RFC 3339 time, in UTC as the store returns it.
func gt(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// goldenCase is one fixed value and the codec that stores it.
type goldenCase struct {
	name   string
	value  any
	encode func(any) []byte
	decode func([]byte) (any, error)
}

func recordCase(name string, r certs.Record) goldenCase {
	return goldenCase{name, r,
		func(v any) []byte { return encodeRecord(v.(certs.Record)) },
		func(b []byte) (any, error) { return decodeRecord(b) }}
}

func caCase(name string, c certs.CA) goldenCase {
	return goldenCase{name, c,
		func(v any) []byte { return encodeCA(v.(certs.CA)) },
		func(b []byte) (any, error) { return decodeCA(b) }}
}

func accessKeyCase(name string, k certs.AccessKey) goldenCase {
	return goldenCase{name, k,
		func(v any) []byte { return encodeAccessKey(v.(certs.AccessKey)) },
		func(b []byte) (any, error) { return decodeAccessKey(b) }}
}

func settingsCase(name string, st certs.Settings) goldenCase {
	return goldenCase{name, st,
		func(v any) []byte { return encodeSettings(v.(certs.Settings)) },
		func(b []byte) (any, error) { return decodeSettings(b) }}
}

// formatHex writes b as hex, 32 bytes a line.
func formatHex(b []byte) []byte {
	var out bytes.Buffer
	for len(b) > 0 {
		n := min(32, len(b))
		out.WriteString(hex.EncodeToString(b[:n]) + "\n")
		b = b[n:]
	}
	return out.Bytes()
}

func TestEncoding_Golden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.encode(tc.value)
			path := filepath.Join("testdata", "encoding", tc.name+".hex")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, formatHex(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			text, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			want, err := hex.DecodeString(strings.Join(strings.Fields(string(text)), ""))
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("encoding drifted from %s:\n got %x\nwant %x\nStored records must keep decoding: never renumber a tag; rerun with -update only for a compatible addition.", path, got, want)
			}
			dec, err := tc.decode(want)
			if err != nil || !reflect.DeepEqual(dec, tc.value) {
				t.Errorf("decode(golden) = %+v, %v;\nwant %+v", dec, err, tc.value)
			}
		})
	}
}

// TestEncoding_Layout pins the wire format by hand, independently of the
// golden files: version, then uvarint(tag<<1|wire) fields, zig-zag times.
func TestEncoding_Layout(t *testing.T) {
	k := certs.AccessKey{ID: "k", SealedSecret: []byte{0xaa}, QPS: 3, CreatedAt: time.UnixMicro(-1).UTC()}
	want := []byte{
		encVersion,
		kID<<1 | wireBytes, 1, 'k',
		kSealedSecret<<1 | wireBytes, 1, 0xaa,
		kQPS<<1 | wireVarint, 3,
		kCreatedAt<<1 | wireVarint, 1, // zig-zag(-1)
	}
	if got := encodeAccessKey(k); !bytes.Equal(got, want) {
		t.Errorf("encodeAccessKey() = %x, want %x", got, want)
	}
}

func TestIndexKeys(t *testing.T) {
	const id = certs.Identifier("00112233445566778899aabbccddeeff")
	raw, _ := hex.DecodeString(string(id))
	tests := []struct {
		name string
		got  func() ([]byte, error)
		want []byte
	}{
		{"issuer serial", func() ([]byte, error) { return issuerSerialKey(id, "1f00") }, append(bytes.Clone(raw), 0x1f, 0x00)},
		{"issuer serial/zero", func() ([]byte, error) { return issuerSerialKey(id, "0") }, raw},
		{"serial", func() ([]byte, error) { return serialKey("1f00", id) }, append([]byte{2, 0x1f, 0x00}, raw...)},
		{"serial/zero", func() ([]byte, error) { return serialKey("0", id) }, append([]byte{0}, raw...)},
		{"serial/negative", func() ([]byte, error) { return serialPrefix("-5") }, []byte{2, 0x00, 0x05}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := tc.got(); err != nil || !bytes.Equal(got, tc.want) {
				t.Errorf("got %x, %v; want %x", got, err, tc.want)
			}
		})
	}
	for _, bad := range []func() ([]byte, error){
		func() ([]byte, error) { return issuerSerialKey("short", "1") },
		func() ([]byte, error) { return issuerSerialKey(id, "xyz") },
		func() ([]byte, error) { return serialKey("", id) },
	} {
		if _, err := bad(); !errors.Is(err, certs.ErrInvalid) {
			t.Errorf("malformed key input: %v, want ErrInvalid", err)
		}
	}
}

func TestDecode_SkipsUnknownTags(t *testing.T) {
	var unknown encoder // no version byte: just fields
	unknown.uint(200, 5)
	unknown.bytes(201, []byte("from a newer certstatus"))
	unknown.int(202, -7)
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			enc := tc.encode(tc.value)
			for where, b := range map[string][]byte{
				"first": append(append([]byte{enc[0]}, unknown.b...), enc[1:]...),
				"last":  append(bytes.Clone(enc), unknown.b...),
			} {
				if got, err := tc.decode(b); err != nil || !reflect.DeepEqual(got, tc.value) {
					t.Errorf("unknown tags %s: decode = %+v, %v; want %+v", where, got, err, tc.value)
				}
			}
		})
	}
	var tag encoder
	tag.str(1, "k")
	tag.uint(9, 1) // unknown inside a Tag
	tag.str(2, "v")
	e := newEncoder()
	e.uint(rState, uint64(certs.StateIssued))
	e.bytes(rTag, tag.b)
	if r, err := decodeRecord(e.b); err != nil || !reflect.DeepEqual(r.Tags, []certs.Tag{{Key: "k", Value: "v"}}) {
		t.Errorf("unknown tag inside a Tag: %+v, %v", r.Tags, err)
	}
}

func TestDecode_Corrupt(t *testing.T) {
	inputs := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"version 0", []byte{0}},
		{"version 2", []byte{2, rIdentifier<<1 | wireBytes, 1, 'x'}},
		{"overlong key varint", append([]byte{encVersion}, bytes.Repeat([]byte{0xff}, 11)...)},
		{"key without value", []byte{encVersion, rKind << 1}},
		{"overlong value varint", append([]byte{encVersion, rKind << 1}, bytes.Repeat([]byte{0x80}, 11)...)},
		{"length past the end", []byte{encVersion, rDER<<1 | wireBytes, 5, 'a'}},
		{"huge length", []byte{encVersion, rDER<<1 | wireBytes, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{"unterminated length", []byte{encVersion, rDER<<1 | wireBytes, 0x80}},
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			for name, dec := range map[string]func([]byte) (any, error){
				"record":     func(b []byte) (any, error) { return decodeRecord(b) },
				"CA":         func(b []byte) (any, error) { return decodeCA(b) },
				"access key": func(b []byte) (any, error) { return decodeAccessKey(b) },
				"settings":   func(b []byte) (any, error) { return decodeSettings(b) },
			} {
				if _, err := dec(in.b); !errors.Is(err, errCorrupt) {
					t.Errorf("decode %s(%x) = %v, want errCorrupt", name, in.b, err)
				}
			}
		})
	}
	for _, bad := range [][]byte{{encVersion, rTag<<1 | wireBytes, 2, 0x03, 0x09}, {encVersion, cTag<<1 | wireBytes, 1, 0x80}} {
		_, rerr := decodeRecord(bad)
		_, cerr := decodeCA(bad)
		if rerr == nil && cerr == nil {
			t.Errorf("a malformed Tag in %x decodes", bad)
		}
	}
}

// TestDecode_Truncated cuts every golden encoding at every length. The format
// has no end marker, so a cut between two fields decodes as a record with
// fewer fields; a cut inside a field must fail. Nothing may panic.
func TestDecode_Truncated(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			full := tc.encode(tc.value)
			failures := 0
			for n := range len(full) {
				got, err := tc.decode(full[:n])
				if err != nil {
					if !errors.Is(err, errCorrupt) {
						t.Errorf("decode(first %d bytes) = %v, want errCorrupt", n, err)
					}
					failures++
					continue
				}
				if n == 0 {
					t.Errorf("decode(empty) succeeded")
				}
				if again, err := tc.decode(tc.encode(got)); err != nil || !reflect.DeepEqual(again, got) {
					t.Errorf("decode(first %d bytes) = %+v does not round-trip: %+v, %v", n, got, again, err)
				}
				if reflect.DeepEqual(got, tc.value) {
					t.Errorf("decode(first %d of %d bytes) gave the whole value back", n, len(full))
				}
			}
			if failures < 2 {
				t.Errorf("only %d of %d cuts failed to decode", failures, len(full))
			}
		})
	}
}

// FuzzDecodeRecord feeds arbitrary bytes to decodeRecord: it must never
// panic, must fail only with errCorrupt, and whatever it accepts must
// survive an encode/decode round trip unchanged.
func FuzzDecodeRecord(f *testing.F) {
	// Well-formed records, CAs and access keys (the last two have other tag
	// meanings, which decodeRecord must take in its stride).
	for _, tc := range goldenCases {
		f.Add(tc.encode(tc.value))
	}
	f.Add([]byte{})                                                                                       // empty
	f.Add([]byte{encVersion})                                                                             // no fields
	f.Add([]byte{2, 0x03, 0x01, 'x'})                                                                     // unknown version
	f.Add([]byte{encVersion, rDER<<1 | wireBytes, 5, 'a'})                                                // length past the end
	f.Add(append([]byte{encVersion}, bytes.Repeat([]byte{0xff}, 11)...))                                  // overlong varint
	f.Add([]byte{encVersion, rTag<<1 | wireBytes, 2, 0x03, 0x09})                                         // bad Tag inside
	f.Add([]byte{encVersion, rNotAfter << 1, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}) // extreme time
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err != nil {
			if !errors.Is(err, errCorrupt) {
				t.Fatalf("decodeRecord(%x) = %v, want errCorrupt", b, err)
			}
			return
		}
		again, err := decodeRecord(encodeRecord(r))
		if err != nil || !reflect.DeepEqual(again, r) {
			t.Fatalf("decodeRecord(%x) = %+v does not round-trip: %+v, %v", b, r, again, err)
		}
		// What Statuses reads of a stored record is what StatusAt reads.
		var f certs.StatusFacts
		serial, err := decodeFacts(encodeRecord(r), &f, nil)
		f.Serial = certs.Serial(serial)
		if err != nil || f != r.Facts() {
			t.Fatalf("decodeFacts(%+v) = %+v, %v; want %+v", r, f, err, r.Facts())
		}
	})
}
