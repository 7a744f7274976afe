package db

import (
	"encoding/hex"
	"fmt"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/certstatus/certstatus/certs"
)

// Index keys are fixed encodings owned by this package: identifiers as their
// 16 raw bytes, serials as their big-endian magnitude.

func idBytes(id certs.Identifier) ([]byte, error) {
	b, err := hex.DecodeString(string(id))
	if err != nil || len(b) != certs.IdentifierLen/2 {
		return nil, fmt.Errorf("%w identifier %q", certs.ErrInvalid, id)
	}
	return b, nil
}

func idFromBytes(b []byte) certs.Identifier { return certs.Identifier(hex.EncodeToString(b)) }

func serialBytes(s certs.Serial) ([]byte, error) {
	b := s.Bytes()
	if b == nil && s != "0" {
		return nil, fmt.Errorf("%w serial %q", certs.ErrInvalid, s)
	}
	if len(b) > 255 {
		return nil, fmt.Errorf("%w serial %q: too long", certs.ErrInvalid, s)
	}
	return b, nil
}

// issuerSerialKey is issuer(16) ‖ serial.
func issuerSerialKey(issuer certs.Identifier, serial certs.Serial) ([]byte, error) {
	ib, err := idBytes(issuer)
	if err != nil {
		return nil, err
	}
	sb, err := serialBytes(serial)
	if err != nil {
		return nil, err
	}
	return append(ib, sb...), nil
}

// checkSerial makes sure a record's serial is its certificate's, since the
// indexes (and so OCSP) find records by it. It reads the DER only as far as
// the serial, after checking the outer Certificate structure (TBSCertificate,
// signature algorithm, signature, nothing after the Certificate; like x509,
// it lets elements follow the signature inside it): every writer hands the
// store a certificate it made or parsed, Check parses each one in full, and
// a full parse here was a tenth of an issuance's CPU.
func checkSerial(der []byte, s certs.Serial) error {
	var (
		in        = cryptobyte.String(der)
		cert, tbs cryptobyte.String
		n         = new(big.Int)
	)
	if !in.ReadASN1(&cert, cbasn1.SEQUENCE) || !in.Empty() ||
		!cert.ReadASN1(&tbs, cbasn1.SEQUENCE) || !cert.SkipASN1(cbasn1.SEQUENCE) || !cert.SkipASN1(cbasn1.BIT_STRING) ||
		!tbs.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) || !tbs.ReadASN1Integer(n) {
		return fmt.Errorf("%w: certificate does not parse: not a DER Certificate", certs.ErrInvalid)
	}
	if n.Sign() < 0 {
		return fmt.Errorf("%w: certificate does not parse: negative serial number", certs.ErrInvalid)
	}
	if got := certs.SerialFromBig(n); got != s {
		return fmt.Errorf("%w: serial %s is not the certificate's (%s)", certs.ErrInvalid, s, got)
	}
	return nil
}

// serialPrefix is len(serial) ‖ serial; serialKey appends the identifier.
func serialPrefix(serial certs.Serial) ([]byte, error) {
	sb, err := serialBytes(serial)
	if err != nil {
		return nil, err
	}
	return append([]byte{byte(len(sb))}, sb...), nil
}

func serialKey(serial certs.Serial, id certs.Identifier) ([]byte, error) {
	p, err := serialPrefix(serial)
	if err != nil {
		return nil, err
	}
	ib, err := idBytes(id)
	if err != nil {
		return nil, err
	}
	return append(p, ib...), nil
}

// serialFromKey is the inverse of certs.Serial.Bytes.
func serialFromKey(b []byte) certs.Serial {
	if len(b) == 0 {
		return "0"
	}
	if b[0] == 0 && len(b) > 1 {
		return certs.Serial("-" + new(big.Int).SetBytes(b[1:]).Text(16))
	}
	return certs.Serial(new(big.Int).SetBytes(b).Text(16))
}
