package api

import (
	"strings"

	"github.com/certstatus/certstatus/certs"
)

// revoke answers CreateRevokeClientCertificate. Alibaba's model has only
// Identifier; certstatus also reads an optional Reason (an RFC 5280 name
// such as keyCompromise, or its code), default unspecified.
func (s *Server) revoke(c *call) (resp, *Error) {
	id, aerr := c.p.identifier("Identifier")
	if aerr != nil {
		return nil, aerr
	}
	reason := certs.Unspecified
	if c.p.has("Reason") {
		r, err := certs.ParseRevocationReason(c.p.str("Reason"))
		if err != nil {
			return nil, errInvalid("Reason", "%q is not an RFC 5280 reason to revoke (e.g. keyCompromise, superseded)", c.p.str("Reason"))
		}
		reason = r
	}
	r, err := s.revoker.Revoke(c.ctx, id, reason, c.now)
	if err != nil {
		return nil, s.fail(c, "revoke", "Identifier", err)
	}
	return resp{"RevokeTime": epochMillis(r.RevokedAt)}, nil
}

// deleteCert answers DeleteClientCertificate: the certificate leaves every
// listing and description; its status answers do not change. As at
// Alibaba, only a revoked certificate may be deleted: one that still
// answers good is refused with InvalidStatus.NotRevoked. (Revocation is
// final, so a certificate found revoked here stays revoked.)
func (s *Server) deleteCert(c *call) (resp, *Error) {
	id, aerr := c.p.identifier("Identifier")
	if aerr != nil {
		return nil, aerr
	}
	r, err := s.records.Get(c.ctx, id)
	if err == nil && !r.Deleted {
		err = r.Deletable()
	}
	if err == nil {
		_, err = s.changes.Delete(c.ctx, id, c.now)
	}
	if err != nil {
		return nil, s.fail(c, "delete", "Identifier", err)
	}
	s.log.Info("certificate deleted", "request_id", c.requestID, "access_key", c.key.ID, "id", id)
	return resp{}, nil
}

// updateCAStatus answers UpdateCACertificateStatus. Status is REVOKE
// (optional Reason, default cessationOfOperation), FORBIDDEN/DISABLE to stop
// issuance, ISSUE/ENABLE to resume it.
func (s *Server) updateCAStatus(c *call) (resp, *Error) {
	id, aerr := c.p.identifier("Identifier")
	if aerr != nil {
		return nil, aerr
	}
	status, aerr := c.p.required("Status")
	if aerr != nil {
		return nil, aerr
	}
	var err error
	switch strings.ToUpper(status) {
	case "REVOKE", "REVOKED":
		reason := certs.CessationOfOperation
		if c.p.has("Reason") {
			r, perr := certs.ParseRevocationReason(c.p.str("Reason"))
			if perr != nil {
				return nil, errInvalid("Reason", "%q is not an RFC 5280 reason to revoke", c.p.str("Reason"))
			}
			reason = r
		}
		_, err = s.revoker.RevokeCA(c.ctx, id, reason, c.now)
	case "FORBIDDEN", "DISABLE", "DISABLED":
		_, err = s.revoker.SetCADisabled(c.ctx, id, true)
	case "ISSUE", "ENABLE", "ENABLED", "USED":
		_, err = s.revoker.SetCADisabled(c.ctx, id, false)
	default:
		return nil, errInvalid("Status", "%q: want REVOKE, FORBIDDEN or ISSUE", status)
	}
	if err != nil {
		return nil, s.fail(c, "update CA status", "Identifier", err)
	}
	return resp{}, nil
}

// updateCA answers UpdatePcaCertificate: a CA's alias, resource group and
// tags.
func (s *Server) updateCA(c *call) (resp, *Error) {
	id, aerr := c.p.identifier("Identifier")
	if aerr != nil {
		return nil, aerr
	}
	tags, aerr := c.p.tags("Tags")
	if aerr != nil {
		return nil, aerr
	}
	_, err := s.changes.UpdateCA(c.ctx, id, func(ca *certs.CA) error {
		if c.p.has("AliasName") {
			ca.Alias = c.p.str("AliasName")
		}
		if c.p.has("ResourceGroupId") {
			ca.ResourceGroupID = c.p.str("ResourceGroupId")
		}
		if len(tags) > 0 {
			ca.Tags = mergeTags(ca.Tags, tags)
		}
		return nil
	})
	if err != nil {
		return nil, s.fail(c, "update CA", "Identifier", err)
	}
	return resp{}, nil
}

// mergeTags sets each of add on have, replacing values of existing keys.
func mergeTags(have, add []certs.Tag) []certs.Tag {
	out := append([]certs.Tag(nil), have...)
	for _, t := range add {
		replaced := false
		for i := range out {
			if out[i].Key == t.Key {
				out[i].Value, replaced = t.Value, true
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	return out
}
