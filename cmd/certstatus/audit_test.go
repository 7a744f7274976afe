package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

type auditView struct {
	Seq                                              uint64
	Time, Actor, RequestID, Action, Subject, Details string
}

func TestAudit_TrailAndTamper(t *testing.T) {
	e := newOCSPEnv(t) // bootstrap + CAs as PEM
	id := e.issue(t, "--cn", "audited")
	e.c.ok("cert", "revoke", id, "--reason", "superseded")
	e.serve(t)
	other := ""
	{
		var out map[string]any = e.callAPI(t, "CreateClientCertificate", map[string]any{"ParentIdentifier": e.subID, "CommonName": "via-api", "Days": 3})
		other = out["Identifier"].(string)
	}
	e.callAPI(t, "CreateRevokeClientCertificate", map[string]any{"Identifier": other})
	e.shutdown(t)

	var events []auditView
	e.c.json(&events, "audit", "list")
	byAction := map[string][]auditView{}
	for _, ev := range events {
		byAction[ev.Action] = append(byAction[ev.Action], ev)
	}
	check := func(action, subject, actorPrefix string) {
		t.Helper()
		for _, ev := range byAction[action] {
			if ev.Subject == subject && strings.HasPrefix(ev.Actor, actorPrefix) {
				return
			}
		}
		t.Errorf("no %s event about %s by %s*: %+v", action, subject, actorPrefix, byAction[action])
	}
	check("ca.create", e.rootID, "system:bootstrap")
	check("ca.create", e.subID, "system:bootstrap")
	check("ocsp.responder", e.subID, "system:ocsp")
	check("certificate.issue", id, "cli:")
	check("certificate.revoke", id, "cli:")
	check("certificate.issue", other, "LTAI")
	check("certificate.revoke", other, "LTAI")
	for _, ev := range byAction["certificate.revoke"] {
		if strings.HasPrefix(ev.Actor, "LTAI") && len(ev.RequestID) != 36 {
			t.Errorf("an API event without its RequestId: %+v", ev)
		}
	}
	if len(byAction["accesskey.create"]) != 1 {
		t.Errorf("accesskey events %+v", byAction["accesskey.create"])
	}
	if out := e.c.ok("audit", "verify"); !strings.HasPrefix(out, "ok:") {
		t.Fatalf("verify: %s", out)
	}

	// Edit one event in the database file: verify fails and names it.
	victim := byAction["certificate.revoke"][0].Seq
	db, err := bolt.Open(filepath.Join(e.c.env["CERTSTATUS_DATA"], "certstatus.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("audit"))
		k := binary.BigEndian.AppendUint64(nil, victim)
		v := bytes.Clone(b.Get(k))
		v = bytes.Replace(v, []byte("superseded"), []byte("unspecifie"), 1)
		return b.Put(k, v)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	e.c.fails(fmt.Sprintf("audit event %d", victim), "audit", "verify")
	e.c.fails("problem", "check")
}
