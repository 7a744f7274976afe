package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/certstatus/certstatus/certs"
)

// subParent reads CreateSubCACertificate's ParentIdentifier, optional in
// Alibaba's model: without it, the one root that can sign a CA now
// (unrevoked, enabled, valid, path length not 0). None is MissingParameter;
// several are InvalidParameter naming them, since guessing would put the
// CA under the wrong root.
func (s *Server) subParent(c *call) (certs.Identifier, *Error) {
	if c.p.has("ParentIdentifier") {
		return c.p.identifier("ParentIdentifier")
	}
	all, err := s.cas.CAs(c.ctx)
	if err != nil {
		return "", s.internal(c, "list CAs", err)
	}
	var roots []string
	for _, ca := range all {
		if ca.Kind == certs.KindRootCA && ca.CanIssueAt(c.now) == nil && ca.PathLen != 0 {
			roots = append(roots, string(ca.Identifier))
		}
	}
	switch len(roots) {
	case 0:
		return "", newError(http.StatusBadRequest, "MissingParameter",
			"The input parameter \"ParentIdentifier\" that is mandatory for processing this request is not supplied: no root CA can sign a sub CA now, so none can be chosen for you.")
	case 1:
		return certs.Identifier(roots[0]), nil
	}
	return "", errInvalid("ParentIdentifier", "it is required when several root CAs can sign: choose one of %s", strings.Join(roots, ", "))
}

// extKeyUsages reads an array<string> of extended key usages, flattened as
// the SDKs send it (name.1, name.2 …) or comma-separated.
func extKeyUsages(p params, name string) ([]certs.EKU, *Error) {
	var raw []struct{ param, value string }
	m := p.indexed(name)
	for _, i := range sortedIndexes(m) {
		raw = append(raw, struct{ param, value string }{name + "." + strconv.Itoa(i), strings.TrimSpace(m[i][""])})
	}
	for _, v := range p.list(name) {
		raw = append(raw, struct{ param, value string }{name, v})
	}
	var out []certs.EKU
	for _, r := range raw {
		e, err := certs.ParseEKU(r.value)
		if err != nil {
			return nil, errInvalid(r.param, "%s", publicMessage(err))
		}
		out = append(out, e)
	}
	return out, nil
}
