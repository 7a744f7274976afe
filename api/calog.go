package api

import (
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
// delegated responder changes), newest first, read from the store's
// per-CA index of the trail (the model has no paging; a CA's events are
// few). OpType is ADD for the creation and UPDATE for the rest; Content is
// the audit action and its facts.
func (s *Server) listCALog(c *call) (resp, *Error) {
	ca, aerr := s.loadCA(c, "Identifier")
	if aerr != nil {
		return nil, aerr
	}
	list := []caLogEntry{}
	err := s.caLog.CAAudit(c.ctx, ca.Identifier, func(e certs.AuditEvent) bool {
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
	return resp{"LogList": list}, nil
}
