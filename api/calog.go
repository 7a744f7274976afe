package api

import (
	"strings"

	"github.com/certstatus/certstatus/certs"
)

// caLogEntry is one item of ListCACertificateLog's LogList.
type caLogEntry struct {
	Content    string `json:"Content"`
	CreateTime int64  `json:"CreateTime"`
	Identifier string `json:"Identifier"`
	OpType     string `json:"OpType"`
}

// listCALog answers ListCACertificateLog from the audit trail: every event
// about the CA (its creation, revocation, disabling, enabling, updates,
// delegated responder changes), newest first. OpType is ADD for the
// creation and UPDATE for the rest; Content is the audit action and its
// facts. The trail is read in full (CA events are few, and the model has
// no paging).
func (s *Server) listCALog(c *call) (resp, *Error) {
	ca, aerr := s.loadCA(c, "Identifier")
	if aerr != nil {
		return nil, aerr
	}
	list := []caLogEntry{}
	err := s.store.Audit(c.ctx, 1, func(e certs.AuditEvent) bool {
		if e.Subject != string(ca.Identifier) || !strings.HasPrefix(e.Action, "ca.") && !strings.HasPrefix(e.Action, "ocsp.") {
			return true
		}
		op := "UPDATE"
		if e.Action == "ca.create" {
			op = "ADD"
		}
		content := e.Action
		if e.Details != "" {
			content += ": " + e.Details
		}
		list = append(list, caLogEntry{Content: content, CreateTime: epochMillis(e.Time), Identifier: e.Subject, OpType: op})
		return true
	})
	if err != nil {
		return nil, s.internal(c, "audit trail", err)
	}
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	return resp{"LogList": list}, nil
}
