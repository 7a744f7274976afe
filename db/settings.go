package db

import (
	"context"
	"fmt"
	"strings"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/kv"
)

// bucketSettings holds the data directory's settings (certs.Settings), one
// record under keySettings. Schema 10 created it empty; the first open of
// certstatus that finds it so stores the settings it runs with.
var bucketSettings = []byte("settings")

var keySettings = []byte("settings")

// Settings returns the stored settings, or an error wrapping
// certs.ErrNotFound when none are stored yet (a data directory from
// before schema 10, or one being created).
func (s *Store) Settings(ctx context.Context) (certs.Settings, error) {
	var out certs.Settings
	err := s.view(ctx, func(tx kv.Tx) error {
		st, found, err := getSettings(tx)
		if err == nil && !found {
			return fmt.Errorf("db: %w: no settings stored", certs.ErrNotFound)
		}
		out = st
		return err
	})
	return out, err
}

// UpdateSettings applies fn to the stored settings in one durable
// transaction and returns the result; fn gets the zero Settings when none
// are stored. The result must pass Settings.Validate. A change is audited,
// with the actor of ctx: "settings.create" with every value the first
// time, "settings.update" with each changed field's old and new value
// after; a call that changes nothing writes nothing. fn may be called
// more than once.
func (s *Store) UpdateSettings(ctx context.Context, fn func(*certs.Settings) error) (certs.Settings, error) {
	var out certs.Settings
	err := s.update(ctx, func(tx kv.Tx) error {
		out = certs.Settings{}
		cur, found, err := getSettings(tx)
		if err != nil {
			return err
		}
		next := cur
		if err := fn(&next); err != nil {
			return err
		}
		if err := next.Validate(); err != nil {
			return fmt.Errorf("db: update settings: %w", err)
		}
		out = next
		if found && next == cur {
			return nil
		}
		if err := put(tx, bucketSettings, keySettings, encodeSettings(next)); err != nil {
			return err
		}
		if !found {
			var all []string
			for _, f := range next.Fields() {
				all = append(all, fmt.Sprintf("%s=%q", f.Name, f.Value))
			}
			return appendAudit(ctx, tx, "settings.create", "settings", "%s", strings.Join(all, " "))
		}
		return appendAudit(ctx, tx, "settings.update", "settings", "%s", strings.Join(cur.Changes(next), " "))
	})
	return out, err
}

// getSettings reads the settings record; found is false when there is
// none.
func getSettings(tx kv.Tx) (s certs.Settings, found bool, err error) {
	v := tx.Get(bucketSettings, keySettings)
	if v == nil {
		return certs.Settings{}, false, nil
	}
	b, err := unseal(bucketSettings, keySettings, v)
	if err != nil {
		return certs.Settings{}, false, err
	}
	if s, err = decodeSettings(b); err != nil {
		return certs.Settings{}, false, corrupt(bucketSettings, keySettings, err)
	}
	return s, true, nil
}

// settings checks the settings record: the one key, decoding, valid.
func (ck *checker) settings() {
	ck.each(bucketSettings, func(k, v []byte) {
		if string(k) != string(keySettings) {
			ck.add(bucketSettings, keyString(string(bucketSettings), k), "unexpected key")
			return
		}
		st, err := decodeSettings(v)
		if err != nil {
			ck.add(bucketSettings, string(k), "does not decode: %v", err)
			return
		}
		if err := st.Validate(); err != nil {
			ck.add(bucketSettings, string(k), "%v", err)
		}
	})
}
