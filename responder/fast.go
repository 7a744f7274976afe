package responder

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/ocspsign"
	"github.com/certstatus/certstatus/internal/percent"
)

// The quick path answers the request nearly every client sends — one
// CertID in the canonical encoding of an issuer served here, no nonce, no
// extension, no signature — from the pre-signed answer (or the remembered
// "unknown"), with no allocation of its own: the request is read and the
// answer copied into pooled buffers, the issuer found by the exact bytes of
// the CertID's hash fields, and the store key built from the serial's DER.
// Whatever it does not take, it leaves to Respond, which decides every
// request the quick path answers the same way.

// quickRequest is a request in the shape the quick path takes.
type quickRequest struct {
	prefix []byte // the CertID's fields before serialNumber
	serial []byte // serialNumber's contents: positive, minimally encoded
	certID []byte // the whole CertID element
}

// parseQuick recognises OCSPRequest { tbsRequest { requestList { Request {
// CertID } } } } with nothing optional present and a positive,
// minimally encoded serial of at most maxSerialLen octets. It only says
// whether the request has that shape; ParseRequest judges everything else.
func parseQuick(der []byte) (quickRequest, bool) {
	in := cryptobyte.String(der)
	var outer, tbs, list, single, certID, body cryptobyte.String
	if !in.ReadASN1(&outer, cbasn1.SEQUENCE) || !in.Empty() ||
		!outer.ReadASN1(&tbs, cbasn1.SEQUENCE) || !outer.Empty() ||
		!tbs.ReadASN1(&list, cbasn1.SEQUENCE) || !tbs.Empty() ||
		!list.ReadASN1(&single, cbasn1.SEQUENCE) || !list.Empty() ||
		!single.ReadASN1Element(&certID, cbasn1.SEQUENCE) || !single.Empty() {
		return quickRequest{}, false
	}
	q := quickRequest{certID: certID}
	if !certID.ReadASN1(&body, cbasn1.SEQUENCE) {
		return quickRequest{}, false
	}
	fields := body
	var alg, nameHash, keyHash, serial cryptobyte.String
	if !body.ReadASN1Element(&alg, cbasn1.SEQUENCE) || !body.ReadASN1Element(&nameHash, cbasn1.OCTET_STRING) ||
		!body.ReadASN1Element(&keyHash, cbasn1.OCTET_STRING) {
		return quickRequest{}, false
	}
	q.prefix = fields[:len(fields)-len(body)]
	if !body.ReadASN1(&serial, cbasn1.INTEGER) || !body.Empty() {
		return quickRequest{}, false
	}
	// DER INTEGER: positive (top bit clear) and no redundant leading zero.
	if len(serial) == 0 || len(serial) > maxSerialLen || serial[0]&0x80 != 0 ||
		len(serial) > 1 && serial[0] == 0 && serial[1]&0x80 == 0 {
		return quickRequest{}, false
	}
	q.serial = serial
	return q, true
}

// presigned is the part of the Source the quick path reads.
type presigned interface {
	AppendOCSPResponse(ctx context.Context, dst []byte, issuer certs.Identifier, serial []byte, h crypto.Hash) ([]byte, certs.OCSPResponse, error)
	HasSerial(ctx context.Context, issuer certs.Identifier, serial []byte) (bool, error)
}

// quick finds the answer for der on the quick path: the pre-signed answer
// appended to dst, or a remembered unknown answer. ok is false when the
// request is not one the quick path takes, or its answer must be decided
// by Respond (none stored, or a stored one not current).
func (r *Responder) quick(ctx context.Context, now time.Time, der, dst []byte) (Answer, []byte, bool) {
	q, ok := parseQuick(der)
	if !ok {
		return Answer{}, dst, false
	}
	set := r.set()
	s, h, ok := set.ByPrefix(q.prefix)
	if !ok {
		return Answer{}, dst, false
	}
	out, o, err := r.src.AppendOCSPResponse(ctx, dst, s.ID, q.serial, h)
	if err == nil {
		if !ocspsign.Current(o.ThisUpdate, o.NextUpdate, now) || set.CheckForm() && !s.Made(o.DER) {
			return Answer{}, out, false
		}
		if int(o.Status) >= len(oneStatus) {
			return Answer{}, out, false
		}
		return Answer{DER: o.DER, Cached: true, ThisUpdate: o.ThisUpdate, NextUpdate: o.NextUpdate, Statuses: oneStatus[o.Status][:]}, out, true
	}
	if !errors.Is(err, certs.ErrNotFound) {
		return Answer{}, out, false
	}
	// A remembered answer about a serial the store did not have is served
	// while it still does not; any other is for Respond to check.
	e, ok := r.remembered.current(q.certID, s, now)
	if !ok || e.found {
		return Answer{}, out, false
	}
	if known, err := r.src.HasSerial(ctx, s.ID, q.serial); err != nil || known {
		return Answer{}, out, false // Respond looks again, and drops the entry
	}
	a := e.a
	a.Cached = true
	return a, out, true
}

// oneStatus backs the Statuses of quick answers, which nothing modifies.
var oneStatus = [...][1]certs.Status{{certs.Unknown}, {certs.Good}, {certs.Revoked}}

// scratch holds one request's bytes and its answer's, reused across
// requests.
type scratch struct {
	req, out, path []byte
}

// maxPooledScratch keeps buffers grown by an unusual request out of the
// pool.
const maxPooledScratch = 16 << 10

var scratchPool = sync.Pool{New: func() any {
	return &scratch{req: make([]byte, 0, 1024), out: make([]byte, 0, 2048), path: make([]byte, 0, 512)}
}}

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

func putScratch(s *scratch) {
	if cap(s.req) <= maxPooledScratch && cap(s.out) <= maxPooledScratch && cap(s.path) <= maxPooledScratch {
		scratchPool.Put(s)
	}
}

// maxQuickGET bounds the base64 the quick path decodes: RFC 5019 and RFC
// 9919 clients use GET for requests of at most 255 bytes.
const maxQuickGET = 1 << 10

// quickGET decodes the plain form of a GET path into dst: the prefix,
// slashes, then base64 (standard or URL-safe, padded or not) with nothing
// left escaped once net/http has unescaped the path. Anything else (spaces,
// line breaks, a '%' left, other characters) is for DecodeGET.
func quickGET(path, prefix string, dst []byte) ([]byte, bool) {
	rest, ok := stripPrefix(path, prefix)
	if !ok {
		return nil, false
	}
	rest = strings.TrimLeft(rest, "/")
	if rest == "" || len(rest) > maxQuickGET {
		return nil, false
	}
	return appendBase64(dst[:0], rest)
}

// quickGETEscaped is quickGET for a request-target with %XX escapes (base64
// sent URL-encoded, %2F for '/'), without a path prefix: the path is
// unescaped as net/http's URL.Path is, into buf, and decoded into dst
// without allocating (the pre-signed GET throughput bar; the decoder is
// internal/percent's, checked against url.PathUnescape). ok is false for
// anything quickGET would refuse, and for a bad escape.
func quickGETEscaped(target string, buf, dst []byte) (path, der []byte, ok bool) {
	path, ok = percent.Append(buf[:0], target, len(target))
	if !ok {
		return path, dst, false
	}
	rest := bytes.TrimLeft(path, "/")
	if len(rest) == 0 || len(rest) > maxQuickGET {
		return path, dst, false
	}
	der, ok = appendBase64(dst[:0], rest)
	return path, der, ok
}
