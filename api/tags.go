package api

import (
	"errors"
	"sort"
	"strconv"

	"github.com/certstatus/certstatus/certs"
)

// The tag actions address certificates and CAs by identifier; ResourceType
// and RegionId are required by Alibaba's model and accepted as given.

func (s *Server) tagTargets(c *call) ([]certs.Identifier, *Error) {
	for _, name := range []string{"RegionId", "ResourceType"} {
		if _, aerr := c.p.required(name); aerr != nil {
			return nil, aerr
		}
	}
	m := c.p.indexed("ResourceId")
	var ids []certs.Identifier
	for _, i := range sortedIndexes(m) {
		v := m[i][""]
		id, err := certs.ParseIdentifier(v)
		if err != nil {
			return nil, errInvalid("ResourceId."+strconv.Itoa(i), "%q is not a certificate or CA identifier", v)
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, errMissing("ResourceId.1")
	}
	if len(ids) > 50 {
		return nil, errInvalid("ResourceId", "at most 50 resources, got %d", len(ids))
	}
	return ids, nil
}

// retag applies fn to the tags of certificate or CA id.
func (s *Server) retag(c *call, id certs.Identifier, fn func([]certs.Tag) []certs.Tag) *Error {
	_, err := s.changes.UpdateRecord(c.ctx, id, func(r *certs.Record) error {
		r.Tags = fn(r.Tags)
		return nil
	})
	if errors.Is(err, certs.ErrNotFound) {
		_, err = s.changes.UpdateCA(c.ctx, id, func(ca *certs.CA) error {
			ca.Tags = fn(ca.Tags)
			return nil
		})
	}
	if errors.Is(err, certs.ErrNotFound) {
		return newErrorNotFoundResource(id)
	}
	if err != nil {
		return s.internal(c, "retag", err)
	}
	return nil
}

func (s *Server) tagResources(c *call) (resp, *Error) {
	ids, aerr := s.tagTargets(c)
	if aerr != nil {
		return nil, aerr
	}
	tags, aerr := c.p.tags("Tag")
	if aerr != nil {
		return nil, aerr
	}
	if len(tags) == 0 {
		return nil, errMissing("Tag.1.Key")
	}
	for _, id := range ids {
		if aerr := s.retag(c, id, func(have []certs.Tag) []certs.Tag { return mergeTags(have, tags) }); aerr != nil {
			return nil, aerr
		}
	}
	return resp{}, nil
}

func (s *Server) untagResources(c *call) (resp, *Error) {
	ids, aerr := s.tagTargets(c)
	if aerr != nil {
		return nil, aerr
	}
	all, aerr := c.p.boolean("All")
	if aerr != nil {
		return nil, aerr
	}
	drop := map[string]bool{}
	for _, kv := range c.p.indexed("TagKey") {
		drop[kv[""]] = true
	}
	if !all && len(drop) == 0 {
		return nil, errMissing("TagKey.1")
	}
	for _, id := range ids {
		aerr := s.retag(c, id, func(have []certs.Tag) []certs.Tag {
			var keep []certs.Tag
			for _, t := range have {
				if !all && !drop[t.Key] {
					keep = append(keep, t)
				}
			}
			return keep
		})
		if aerr != nil {
			return nil, aerr
		}
	}
	return resp{}, nil
}

// listTagResources lists the tags of the given resources, or of every
// certificate and CA carrying the Tag.N filters.
func (s *Server) listTagResources(c *call) (resp, *Error) {
	for _, name := range []string{"RegionId", "ResourceType"} {
		if _, aerr := c.p.required(name); aerr != nil {
			return nil, aerr
		}
	}
	filter, aerr := c.p.tags("Tag")
	if aerr != nil {
		return nil, aerr
	}
	type entry struct {
		ResourceId, ResourceType, TagKey, TagValue string
	}
	var out []entry
	add := func(id certs.Identifier, tags []certs.Tag) {
		for _, t := range tags {
			if matchesTags(tags, filter) {
				out = append(out, entry{string(id), c.p.str("ResourceType"), t.Key, t.Value})
			}
		}
	}
	if len(c.p.indexed("ResourceId")) > 0 {
		ids, aerr := s.tagTargets(c)
		if aerr != nil {
			return nil, aerr
		}
		for _, id := range ids {
			if r, err := s.records.Get(c.ctx, id); err == nil && !r.Deleted {
				add(id, r.Tags)
			} else if ca, err := s.cas.CA(c.ctx, id); err == nil {
				add(id, ca.Tags)
			}
		}
	}
	max, aerr := c.p.integer("MaxResults", 50, 1, 1000)
	if aerr != nil {
		return nil, aerr
	}
	start, aerr := c.p.integer("NextToken", 0, 0, MaxListWindow)
	if aerr != nil {
		return nil, errInvalid("NextToken", "does not continue a listing (listings by tag end after %d entries; narrow them with Tag.N or ResourceId.N)", MaxListWindow)
	}
	if start%max != 0 {
		return nil, errInvalid("NextToken", "does not continue a listing")
	}
	if len(c.p.indexed("ResourceId")) > 0 {
		sort.SliceStable(out, func(i, j int) bool { return out[i].ResourceId < out[j].ResourceId })
	} else {
		// CAs newest first, then certificates newest first, read a batch
		// at a time until the page and one entry more are found: memory
		// and work end with the page, not with the store.
		cas, err := s.cas.CAs(c.ctx)
		if err != nil {
			return nil, s.internal(c, "list CAs", err)
		}
		newestFirst(cas)
		for _, ca := range cas {
			add(ca.Identifier, ca.Tags)
		}
		f := certs.Filter{Limit: 256}
		for int64(len(out)) <= start+max {
			recs, next, err := s.records.List(c.ctx, f)
			if err != nil {
				return nil, s.internal(c, "list", err)
			}
			for _, r := range recs {
				add(r.Identifier, r.Tags)
			}
			if next == "" {
				break
			}
			f.After = next
		}
	}
	page := pageOf(out, start/max+1, max)
	data := map[string]any{"MaxResults": max, "TagResources": map[string]any{"TagResources": page}}
	if next := start + int64(len(page)); next < int64(len(out)) {
		data["NextToken"] = strconv.FormatInt(next, 10)
	}
	return resp{"Data": data}, nil
}

// matchesTags reports whether tags has every key=value of filter.
func matchesTags(tags, filter []certs.Tag) bool {
	for _, f := range filter {
		found := false
		for _, t := range tags {
			found = found || (t.Key == f.Key && (f.Value == "" || t.Value == f.Value))
		}
		if !found {
			return false
		}
	}
	return true
}
