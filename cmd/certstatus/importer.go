package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/parallel"
)

// importReport is what an import did.
type importReport struct {
	CA                    string
	Lines, Added, Revoked int
	Unchanged, Skipped    int
	SkippedBy             map[string]int
	Examples              map[string]string
	// Assumed counts revoked items whose revocation time or reason could
	// not be read: they are imported revoked all the same (an unreadable
	// date must never turn a revoked certificate into "unknown" or "good"),
	// at the import's start time and/or with reason unspecified.
	Assumed   int
	AssumedBy map[string]int
	// Presigned counts the OCSP answers signed and stored during the
	// import, so that the imported certificates are answered pre-signed
	// from the first ask.
	Presigned int
}

// importer collects records into batches of one transaction each, counts
// what it skips and why, and shows progress. openssl-index, cfssl and pem
// imports share it.
type importer struct {
	ctx      context.Context
	s        *service
	e        *cmdEnv
	ca       certs.CA
	batch    int
	rep      importReport
	pending  []certs.Record
	progress *progress
	started  time.Time
	// presigns is true when the imported certificates' OCSP answers are
	// signed at import: false when the CA's key is not in the store
	// (nothing can sign for it).
	presigns bool
}

func newImporter(ctx context.Context, s *service, e *cmdEnv, ca certs.CA, batch int) *importer {
	im := &importer{ctx: ctx, s: s, e: e, ca: ca, batch: batch, progress: newProgress(e.stderr), started: time.Now().UTC().Truncate(time.Second),
		rep: importReport{CA: string(ca.Identifier), SkippedBy: map[string]int{}, Examples: map[string]string{}, AssumedBy: map[string]int{}}}
	if len(ca.SealedKey) > 0 {
		if err := s.ca.ReloadOCSP(ctx); err != nil {
			fmt.Fprintf(e.stderr, "warning: OCSP answers not pre-signed (they are signed live when asked): %v\n", err)
		} else {
			im.presigns = true
		}
	}
	return im
}

// next counts one input item (line, row, certificate).
func (im *importer) next() { im.rep.Lines++ }

// skip records an item left out, with the reason and a first example.
func (im *importer) skip(reason, example string) {
	im.rep.Skipped++
	im.note(im.rep.SkippedBy, reason, example)
}

// note counts reason in by and keeps its first example.
func (im *importer) note(by map[string]int, reason, example string) {
	by[reason]++
	if im.rep.Examples[reason] == "" {
		im.rep.Examples[reason] = example
	}
}

// revoked marks r revoked at at for reason. A zero at (unreadable) becomes
// the import's start time and an unrevocable reason unspecified; a non-empty
// why says what could not be read, and is reported with example.
func (im *importer) revoked(r *certs.Record, at time.Time, reason certs.Reason, why, example string) {
	if at.IsZero() {
		at = im.started
	}
	if !reason.Revocable() {
		reason = certs.Unspecified
	}
	if why != "" {
		im.rep.Assumed++
		im.note(im.rep.AssumedBy, why, example)
	}
	r.State, r.RevokedAt, r.Reason = certs.StateRevoked, at, reason
}

// add queues r, writing a batch when it is full.
func (im *importer) add(r certs.Record) error {
	im.pending = append(im.pending, r)
	if len(im.pending) >= im.batch {
		return im.flush()
	}
	return nil
}

func (im *importer) flush() error {
	if len(im.pending) == 0 {
		return nil
	}
	res, err := im.s.store.PutMany(im.ctx, im.pending)
	if err != nil {
		return fmt.Errorf("import batch ending at item %d: %w (nothing of this batch was written)", im.rep.Lines, err)
	}
	im.rep.Added += res.Added
	im.rep.Revoked += res.Revoked
	im.rep.Unchanged += res.Unchanged
	if im.presigns {
		n, err := im.presign(im.pending)
		im.rep.Presigned += n
		if err != nil {
			fmt.Fprintf(im.e.stderr, "warning: OCSP answers no longer pre-signed (the rest are signed live when asked): %v\n", err)
			im.presigns = false
		}
	}
	im.pending = im.pending[:0]
	im.progress.update(im.rep.Lines, im.rep.Added+im.rep.Revoked+im.rep.Unchanged, im.rep.Skipped)
	return nil
}

// presign signs the SHA-1 answers of a written batch on every core and
// stores them in one transaction. The store keeps an answer only while it
// matches the record, so a revocation meanwhile is never undone.
func (im *importer) presign(recs []certs.Record) (int, error) {
	out := make([]certs.OCSPResponse, len(recs))
	errs := make([]error, len(recs))
	parallel.For(len(recs), func(i int) { out[i], errs[i] = im.s.ca.PresignOCSP(im.ctx, recs[i]) })
	for i := range recs {
		if errs[i] != nil {
			return 0, errs[i]
		}
	}
	return im.s.store.PutOCSPResponses(im.ctx, out...)
}

// finish writes the last batch and regenerates the CA's CRL when the
// import changed anything it lists.
func (im *importer) finish() (importReport, error) {
	if err := im.flush(); err != nil {
		return im.rep, err
	}
	im.progress.done(im.rep.Lines)
	if im.rep.Added+im.rep.Revoked > 0 && len(im.ca.SealedKey) > 0 {
		if _, err := im.s.ca.UpdateCRL(im.ctx, im.ca.Identifier, im.s.cfg.crl); err != nil {
			fmt.Fprintf(im.e.stderr, "warning: CRL not regenerated: %v\n", err)
		}
	}
	return im.rep, nil
}

// print writes the report for people; unit names what an item is.
func (r importReport) print(w io.Writer, unit string) {
	fmt.Fprintf(w, "CA %s: %d %s, %d added, %d revocations applied, %d already present, %d skipped\n",
		r.CA, r.Lines, unit, r.Added, r.Revoked, r.Unchanged, r.Skipped)
	for _, k := range slices.Sorted(maps.Keys(r.SkippedBy)) {
		fmt.Fprintf(w, "  skipped %d: %s (e.g. %s)\n", r.SkippedBy[k], k, r.Examples[k])
	}
	for _, k := range slices.Sorted(maps.Keys(r.AssumedBy)) {
		fmt.Fprintf(w, "  revoked anyway %d: %s; recorded at import time and/or as unspecified (e.g. %s)\n", r.AssumedBy[k], k, r.Examples[k])
	}
	if r.Presigned > 0 {
		fmt.Fprintf(w, "  %d OCSP answers pre-signed\n", r.Presigned)
	}
}
