package certs

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
)

// Identifier is the unique identifier of a certificate or CA: 32 lowercase
// hexadecimal characters, hex(sha256(DER)[:16]) of the certificate, so that
// storing the same certificate twice yields the same identifier.
type Identifier string

// IdentifierLen is the length of an Identifier in characters.
const IdentifierLen = 32

// IdentifierOf returns the identifier of a DER-encoded certificate.
func IdentifierOf(der []byte) Identifier {
	sum := sha256.Sum256(der)
	return Identifier(hex.EncodeToString(sum[:16]))
}

// ParseIdentifier checks that s is a well-formed identifier. Surrounding
// spaces are trimmed and upper-case hex is accepted and lowered, since
// clients copy identifiers by hand.
func ParseIdentifier(s string) (Identifier, error) {
	if len(s) == IdentifierLen && lowerHex(s) {
		return Identifier(s), nil // the common case, checked in one pass
	}
	t := strings.ToLower(strings.TrimSpace(s))
	if len(t) != IdentifierLen {
		return "", fmt.Errorf("%w identifier %q: want %d hex characters, got %d", ErrInvalid, s, IdentifierLen, len(t))
	}
	for i := 0; i < len(t); i++ {
		if !isHex(t[i]) {
			return "", fmt.Errorf("%w identifier %q: %q is not a hex digit", ErrInvalid, s, t[i])
		}
	}
	return Identifier(t), nil
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

// Valid reports whether id is well formed.
func (id Identifier) Valid() bool {
	t, err := ParseIdentifier(string(id))
	return err == nil && t == id
}

func (id Identifier) String() string { return string(id) }

// Serial is a certificate serial number printed as lowercase hex without
// separators or leading zeros ("0" for zero).
type Serial string

// MaxSerialOctets is the longest serial RFC 5280 §4.1.2.2 lets a CA use.
const MaxSerialOctets = 20

// SerialFromBig returns the Serial of n. Negative serials (seen in old
// certificates) keep their sign as a leading "-".
func SerialFromBig(n *big.Int) Serial {
	if n == nil {
		return ""
	}
	return Serial(n.Text(16))
}

// Replacers are built once: NewReplacer's tables cost ~12 KB a call.
var (
	dropSeparators       = strings.NewReplacer("-", "", "_", "", " ", "")
	dropSerialSeparators = strings.NewReplacer(":", "", " ", "")
)

// ParseSerial normalises a serial typed by a person or another tool: hex
// with or without colons, spaces or a 0x prefix, any case. A leading "-"
// keeps the (illegal, but seen in old certificates) negative serials apart.
func ParseSerial(s string) (Serial, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	neg := strings.HasPrefix(t, "-")
	t = strings.TrimPrefix(t, "-")
	t = strings.TrimPrefix(t, "0x")
	t = dropSerialSeparators.Replace(t)
	if t == "" {
		return "", fmt.Errorf("%w serial %q: empty", ErrInvalid, s)
	}
	for i := 0; i < len(t); i++ {
		if !isHex(t[i]) {
			return "", fmt.Errorf("%w serial %q: %q is not a hex digit", ErrInvalid, s, t[i])
		}
	}
	t = strings.TrimLeft(t, "0")
	if t == "" {
		t = "0"
	}
	if len(t) > 2*MaxSerialOctets+2 { // tolerate one sign octet past 20
		return "", fmt.Errorf("%w serial %q: longer than %d octets", ErrInvalid, s, MaxSerialOctets)
	}
	if neg && t != "0" {
		t = "-" + t
	}
	return Serial(t), nil
}

// Big returns the serial as an integer.
func (s Serial) Big() (*big.Int, bool) {
	return new(big.Int).SetString(string(s), 16)
}

// Bytes returns the big-endian magnitude of the serial, the fixed form used
// in index keys. It returns nil for a malformed serial.
func (s Serial) Bytes() []byte {
	n, ok := s.Big()
	if !ok {
		return nil
	}
	if n.Sign() < 0 {
		// A negative serial is illegal but exists in the wild. A positive
		// magnitude never starts with 0x00, so the prefix keeps it distinct.
		return append([]byte{0x00}, n.Bytes()...)
	}
	return n.Bytes()
}

func (s Serial) String() string { return string(s) }

func isHex(c byte) bool { return lowerHexDigit[c] }

// lowerHexDigit is isHex as a table: a status query checks 32,000 of
// these for a thousand identifiers.
var lowerHexDigit = func() (t [256]bool) {
	for c := range t {
		t[c] = '0' <= c && c <= '9' || 'a' <= c && c <= 'f'
	}
	return t
}()
