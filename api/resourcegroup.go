package api

import (
	"errors"
	"strings"
	"unicode"

	"github.com/certstatus/certstatus/certs"
)

// moveResourceGroup answers MoveResourceGroup: it sets the stored
// ResourceGroupId of a certificate or a CA (an audited update). certstatus
// has no resource-group directory, so any well-formed group name is
// accepted. ResourceType is "certificate", "ca", or Alibaba's "instance"
// (either, by the identifier).
func (s *Server) moveResourceGroup(c *call) (resp, *Error) {
	id, aerr := c.p.identifier("ResourceId")
	if aerr != nil {
		return nil, aerr
	}
	group, aerr := c.p.required("ResourceGroupId")
	if aerr != nil {
		return nil, aerr
	}
	if len(group) > 128 || strings.IndexFunc(group, func(r rune) bool { return !unicode.IsPrint(r) || unicode.IsSpace(r) }) >= 0 {
		return nil, errInvalid("ResourceGroupId", "%q: a resource group ID is 1 to 128 printable characters without spaces", group)
	}
	typ, aerr := c.p.required("ResourceType")
	if aerr != nil {
		return nil, aerr
	}
	cert, ca := false, false
	switch strings.ToLower(typ) {
	case "certificate", "cert":
		cert = true
	case "ca":
		ca = true
	case "instance":
		cert, ca = true, true
	default:
		return nil, errInvalid("ResourceType", "%q: want certificate, ca or instance", typ)
	}
	err := error(certs.CertNotFound(id))
	if cert {
		_, err = s.changes.UpdateRecord(c.ctx, id, func(r *certs.Record) error {
			if r.Deleted {
				return certs.CertNotFound(id)
			}
			r.ResourceGroupID = group
			return nil
		})
	}
	if ca && errors.Is(err, certs.ErrNotFound) {
		_, err = s.changes.UpdateCA(c.ctx, id, func(x *certs.CA) error {
			x.ResourceGroupID = group
			return nil
		})
		if cert && errors.Is(err, certs.ErrNotFound) {
			return nil, newErrorNotFoundResource(id)
		}
	}
	if err != nil {
		return nil, s.fail(c, "move resource group", "ResourceId", err)
	}
	s.log.Info("resource group changed", "request_id", c.requestID, "access_key", c.key.ID, "id", id, "resource_group", group)
	return resp{}, nil
}
