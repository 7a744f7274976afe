package api

import (
	"errors"
	"fmt"

	"github.com/certstatus/certstatus/certs"
)

// statusEntry is one element of CertificateStatus, encoded by
// encoding/json: the field order and the omitempty tags are what clients
// have always received (TestStatusJSON_MixedBatchBytes pins the bytes).
// Identifier is an addition to Alibaba's model (the SDKs ignore unknown
// fields) so that a caller can match answers without relying on order; it
// is absent only for a serial nothing was issued under. RevokeTime is
// present only for a revoked certificate.
type statusEntry struct {
	Identifier   string `json:"Identifier,omitempty"`
	SerialNumber string `json:"SerialNumber"`
	Status       string `json:"Status"`
	RevokeTime   int64  `json:"RevokeTime,omitempty"`
}

// entryOf is the status entry of one certificate; a record that cannot be
// decided (certs.ErrCorrupt) fails the whole request, never a status.
func entryOf(id string, f certs.StatusFacts, c *call) (statusEntry, error) {
	a, err := f.StatusAt(c.now)
	if err != nil {
		return statusEntry{}, fmt.Errorf("certificate %s: %w", id, err)
	}
	e := statusEntry{Identifier: id, SerialNumber: string(f.Serial), Status: a.Status.String()}
	if a.Status == certs.Revoked {
		e.RevokeTime = epochMillis(a.RevokedAt)
	}
	return e, nil
}

// describeStatus answers DescribeClientCertificateStatus: a comma-separated
// list of identifiers, answered in request order, each once. A malformed
// identifier gets its own entry with Status "unknown" (and no serial), as
// an identifier nothing is stored under does: the well-formed ones of the
// batch stay answered, and SDK programs already handle "unknown".
func (s *Server) describeStatus(c *call) (resp, *Error) {
	raw := c.p.list("Identifier")
	if len(raw) == 0 {
		return nil, errMissing("Identifier")
	}
	seen := make(map[string]bool, len(raw))
	ids := make([]certs.Identifier, 0, len(raw))
	// order holds each entry's identifier in request order; a malformed
	// one is marked by its index in bad.
	order := make([]string, 0, len(raw))
	bad := map[int]bool{}
	for _, s := range raw {
		id, err := certs.ParseIdentifier(s)
		key := string(id)
		if err != nil {
			key = s
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		if err != nil {
			bad[len(order)] = true
		} else {
			ids = append(ids, id)
		}
		order = append(order, key)
	}
	if len(order) > s.opts.MaxIdentifiers {
		return nil, errInvalid("Identifier", "%d identifiers, at most %d per request", len(order), s.opts.MaxIdentifiers)
	}
	var facts []certs.StatusFacts
	if len(ids) > 0 {
		var err error
		if facts, err = s.statuses.Statuses(c.ctx, ids); err != nil {
			return nil, s.internal(c, "status lookup", err)
		}
	}
	out := make([]statusEntry, len(order))
	j := 0
	for i, key := range order {
		if bad[i] {
			out[i] = statusEntry{Identifier: key, Status: certs.Unknown.String()}
			continue
		}
		var err error
		if out[i], err = entryOf(key, facts[j], c); err != nil {
			return nil, s.internal(c, "status lookup", err)
		}
		j++
	}
	return resp{"CertificateStatus": out}, nil
}

// describeStatusForSerial answers by serial number: every certificate with
// that serial (from any of our CAs) gets an entry; a serial we never issued
// gets one "unknown" entry.
func (s *Server) describeStatusForSerial(c *call) (resp, *Error) {
	raw := c.p.list("SerialNumber")
	if len(raw) == 0 {
		return nil, errMissing("SerialNumber")
	}
	seen := map[certs.Serial]bool{}
	var serials []certs.Serial
	for _, v := range raw {
		serial, err := certs.ParseSerial(v)
		if err != nil {
			return nil, errInvalid("SerialNumber", "%q is not a hexadecimal serial number", v)
		}
		if !seen[serial] {
			seen[serial] = true
			serials = append(serials, serial)
		}
	}
	// As for identifiers, duplicates do not count toward the limit.
	if len(serials) > s.opts.MaxIdentifiers {
		return nil, errInvalid("SerialNumber", "%d serial numbers, at most %d per request", len(serials), s.opts.MaxIdentifiers)
	}
	var out []statusEntry
	for _, serial := range serials {
		recs, err := s.statuses.BySerial(c.ctx, serial)
		if err != nil {
			return nil, s.internal(c, "status lookup by serial", err)
		}
		if len(recs) == 0 {
			out = append(out, statusEntry{SerialNumber: string(serial), Status: certs.Unknown.String()})
		}
		for _, r := range recs {
			e, err := entryOf(string(r.Identifier), r.Facts(), c)
			if err != nil {
				return nil, s.internal(c, "status lookup by serial", err)
			}
			out = append(out, e)
		}
	}
	return resp{"CertificateStatus": out}, nil
}

// internal logs a server fault and returns InternalError.
func (s *Server) internal(c *call, what string, err error) *Error {
	if c.ctx.Err() != nil {
		// The client went away: its cancellation, not a server fault.
		s.log.Debug("api: "+what+": client closed the request", "request_id", c.requestID, "action", c.action, "err", err)
		return errClientClosed()
	}
	s.log.Error("api: "+what, "request_id", c.requestID, "action", c.action, "err", err)
	if errors.Is(err, certs.ErrStorage) {
		return errStorage(err)
	}
	return errInternal()
}
