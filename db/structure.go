package db

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"os"
	"strconv"
)

// checkStructure walks the page structure of the bbolt file at path with
// plain reads (never the memory map, so a truncated or damaged file cannot
// fault): the meta pages, the file's length against the page count they
// give, the freelist, and the page tree of every bucket, breadth first so
// that roots and branch pages come before leaves. Every page read is
// checked: its id, its type, its element table and the child pages it
// names. It reads at most maxPages pages (negative: all of them). The
// problems found are returned; an error means the file could not be read
// at all.
//
// bbolt itself trusts its pages: a zeroed or cut page panics or faults the
// process when a transaction meets it. This walk is what Open runs first
// (bounded, to keep start-up fast: openCheckPages) and what Check runs in
// full before it lets bbolt read anything.
func checkStructure(path string, maxPages int) ([]Problem, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	w := &walker{f: f, size: fi.Size(), budget: maxPages, seen: map[uint64]bool{}}
	w.run()
	return w.ps, nil
}

// openCheckPages bounds the structural walk Open makes: meta, freelist,
// the root bucket and every bucket's root and upper branch pages fit in it
// many times over, and reading it takes milliseconds even at a million
// certificates (docs/BENCHMARKS.md). Check walks every page.
const openCheckPages = 4096

// bbolt's on-disk layout (go.etcd.io/bbolt/internal/common).
const (
	pageHeaderSize   = 16 // id u64, flags u16, count u16, overflow u32
	elementSize      = 16 // branch: pos, ksize u32, pgid u64; leaf: flags, pos, ksize, vsize u32
	bucketHeaderSize = 16 // root pgid u64, sequence u64
	flagBranch       = 0x01
	flagLeaf         = 0x02
	flagMeta         = 0x04
	flagFreelist     = 0x10
	flagBucketLeaf   = 0x01
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	noFreelist       = ^uint64(0)
	metaSumOffset    = 56 // the meta's checksum covers its first 56 bytes
)

type boltMeta struct {
	pageSize uint32
	root     uint64
	freelist uint64
	pgid     uint64 // high-water mark: pages in use
	txid     uint64
}

type walker struct {
	f        *os.File
	size     int64
	pageSize int
	hwm      uint64
	budget   int
	seen     map[uint64]bool
	buf      []byte
	ps       []Problem
}

type pageRef struct {
	id     uint64
	bucket string // the bucket the page belongs to, for reports
}

func (w *walker) add(key, format string, a ...any) {
	w.ps = append(w.ps, Problem{Bucket: "bbolt", Key: key, Msg: fmt.Sprintf(format, a...)})
}

func (w *walker) run() {
	if w.size == 0 {
		w.add("-", "the file is empty")
		return
	}
	m, ok := w.meta()
	if !ok {
		return
	}
	w.pageSize, w.hwm = int(m.pageSize), m.pgid
	if need := int64(m.pgid) * int64(m.pageSize); w.size < need {
		w.add("-", "the file is truncated: %d bytes, its metadata needs %d (%d pages of %d bytes)", w.size, need, m.pgid, m.pageSize)
	}
	if m.root < 2 || m.root >= m.pgid {
		w.add("meta", "root bucket page %d is outside the file's pages (2..%d)", m.root, m.pgid-1)
		return
	}
	if m.freelist != noFreelist {
		w.freelist(m.freelist)
	}
	queue := []pageRef{{id: m.root, bucket: "(root)"}}
	for len(queue) > 0 && w.budget != 0 {
		ref := queue[0]
		queue = queue[1:]
		queue = append(queue, w.page(ref)...)
	}
}

// meta returns the meta page bbolt would use: the valid one with the
// higher transaction id.
func (w *walker) meta() (boltMeta, bool) {
	m0, err0 := w.readMeta(0, 0)
	size := int64(os.Getpagesize())
	if err0 == nil {
		size = int64(m0.pageSize)
	}
	m1, err1 := w.readMeta(1, size)
	switch {
	case err0 != nil && err1 != nil:
		w.add("meta", "both meta pages are invalid (page 0: %v; page 1: %v)", err0, err1)
		return boltMeta{}, false
	case err0 != nil:
		return m1, true
	case err1 != nil:
		return m0, true
	case m1.txid > m0.txid:
		return m1, true
	}
	return m0, true
}

func (w *walker) readMeta(id uint64, off int64) (boltMeta, error) {
	buf := make([]byte, pageHeaderSize+64)
	if _, err := w.f.ReadAt(buf, off); err != nil {
		return boltMeta{}, fmt.Errorf("unreadable: %v", err)
	}
	h, b := buf[:pageHeaderSize], buf[pageHeaderSize:]
	if binary.LittleEndian.Uint16(h[8:]) != flagMeta {
		return boltMeta{}, fmt.Errorf("not a meta page (type %#x)", binary.LittleEndian.Uint16(h[8:]))
	}
	if binary.LittleEndian.Uint32(b[0:]) != boltMagic {
		return boltMeta{}, fmt.Errorf("bad magic")
	}
	if binary.LittleEndian.Uint32(b[4:]) != boltVersion {
		return boltMeta{}, fmt.Errorf("bbolt format version %d", binary.LittleEndian.Uint32(b[4:]))
	}
	sum := fnv.New64a()
	sum.Write(b[:metaSumOffset])
	if sum.Sum64() != binary.LittleEndian.Uint64(b[metaSumOffset:]) {
		return boltMeta{}, fmt.Errorf("checksum mismatch")
	}
	m := boltMeta{
		pageSize: binary.LittleEndian.Uint32(b[8:]),
		root:     binary.LittleEndian.Uint64(b[16:]),
		freelist: binary.LittleEndian.Uint64(b[32:]),
		pgid:     binary.LittleEndian.Uint64(b[40:]),
		txid:     binary.LittleEndian.Uint64(b[48:]),
	}
	if m.pageSize < 512 || m.pageSize > 1<<16 || m.pageSize&(m.pageSize-1) != 0 {
		return boltMeta{}, fmt.Errorf("page size %d", m.pageSize)
	}
	if m.pgid < 3 {
		return boltMeta{}, fmt.Errorf("%d pages", m.pgid)
	}
	return m, nil
}

// read returns page id with its overflow pages, after checking its header:
// its id, a type in want (flag bits), pages inside the file. The result is
// valid until the next read.
func (w *walker) read(id uint64, bucket string, want uint16) ([]byte, bool) {
	key := func() string { return "page " + strconv.FormatUint(id, 10) }
	if id < 2 || id >= w.hwm {
		w.add(key(), "bucket %s names page %d, outside the file's pages (2..%d)", bucket, id, w.hwm-1)
		return nil, false
	}
	if w.seen[id] {
		w.add(key(), "bucket %s names page %d, which another page names too", bucket, id)
		return nil, false
	}
	w.seen[id] = true
	if w.budget > 0 {
		w.budget--
	}
	if cap(w.buf) < w.pageSize {
		w.buf = make([]byte, w.pageSize)
	}
	buf := w.buf[:w.pageSize]
	off := int64(id) * int64(w.pageSize)
	n, err := w.f.ReadAt(buf, off)
	if n < pageHeaderSize {
		w.add(key(), "page of bucket %s lies past the end of the file (%d bytes): %v", bucket, w.size, err)
		return nil, false
	}
	gotID, flags, overflow := binary.LittleEndian.Uint64(buf), binary.LittleEndian.Uint16(buf[8:]), binary.LittleEndian.Uint32(buf[12:])
	if gotID != id {
		w.add(key(), "page of bucket %s says it is page %d (a zeroed or misplaced page)", bucket, gotID)
		return nil, false
	}
	if flags&want == 0 || flags&^want != 0 {
		w.add(key(), "page of bucket %s has type %#x, want %s", bucket, flags, pageTypes(want))
		return nil, false
	}
	if id+uint64(overflow) >= w.hwm {
		w.add(key(), "page of bucket %s overflows past the file's pages (%d more)", bucket, overflow)
		return nil, false
	}
	if overflow > 0 {
		all := (int(overflow) + 1) * w.pageSize
		if cap(w.buf) < all {
			w.buf = append(w.buf[:0], make([]byte, all)...)
		}
		buf = w.buf[:all]
		n, err = w.f.ReadAt(buf, off)
	}
	if n < len(buf) {
		w.add(key(), "page of bucket %s is cut short by the end of the file (%d of %d bytes): %v", bucket, n, len(buf), err)
		return nil, false
	}
	return buf, true
}

func pageTypes(want uint16) string {
	switch want {
	case flagFreelist:
		return "freelist"
	case flagBranch | flagLeaf:
		return "branch or leaf"
	}
	return fmt.Sprintf("%#x", want)
}

func (w *walker) freelist(id uint64) {
	p, ok := w.read(id, "(freelist)", flagFreelist)
	if !ok {
		return
	}
	count, start := uint64(binary.LittleEndian.Uint16(p[10:])), pageHeaderSize
	if count == 0xFFFF {
		count, start = binary.LittleEndian.Uint64(p[pageHeaderSize:]), pageHeaderSize+8
	}
	if uint64(len(p)-start)/8 < count {
		w.add(fmt.Sprintf("page %d", id), "freelist holds %d ids, its pages fit %d", count, (len(p)-start)/8)
		return
	}
	for i := uint64(0); i < count; i++ {
		if f := binary.LittleEndian.Uint64(p[start+int(i)*8:]); f < 2 || f >= w.hwm {
			w.add(fmt.Sprintf("page %d", id), "freelist names page %d, outside the file's pages (2..%d)", f, w.hwm-1)
			return
		}
	}
}

// page checks one page of a bucket's tree and returns the pages it names:
// a branch's children, and the roots of the buckets a leaf holds.
func (w *walker) page(ref pageRef) []pageRef {
	p, ok := w.read(ref.id, ref.bucket, flagBranch|flagLeaf)
	if !ok {
		return nil
	}
	return w.elements(p, ref.id, ref.bucket)
}

// elements checks the element table of page p (a whole page or a bucket's
// inline page) and returns the pages it names.
func (w *walker) elements(p []byte, id uint64, bucket string) []pageRef {
	key := "page " + strconv.FormatUint(id, 10)
	flags, count := binary.LittleEndian.Uint16(p[8:]), int(binary.LittleEndian.Uint16(p[10:]))
	if pageHeaderSize+count*elementSize > len(p) {
		w.add(key, "page of bucket %s holds %d elements, it has room for %d", bucket, count, (len(p)-pageHeaderSize)/elementSize)
		return nil
	}
	if flags == flagBranch && count == 0 {
		w.add(key, "branch page of bucket %s is empty", bucket)
		return nil
	}
	var next []pageRef
	for i := 0; i < count; i++ {
		at := pageHeaderSize + i*elementSize
		e := p[at : at+elementSize]
		pos, ksize := int(binary.LittleEndian.Uint32(e[4:])), int(binary.LittleEndian.Uint32(e[8:]))
		if flags == flagBranch {
			pos, ksize = int(binary.LittleEndian.Uint32(e[0:])), int(binary.LittleEndian.Uint32(e[4:]))
			if at+pos+ksize > len(p) || at+pos < 0 {
				w.add(key, "element %d of bucket %s points past its page", i, bucket)
				return next
			}
			next = append(next, pageRef{id: binary.LittleEndian.Uint64(e[8:]), bucket: bucket})
			continue
		}
		vsize := int(binary.LittleEndian.Uint32(e[12:]))
		if at+pos+ksize+vsize > len(p) || at+pos < 0 {
			w.add(key, "element %d of bucket %s points past its page", i, bucket)
			return next
		}
		if binary.LittleEndian.Uint32(e[0:])&flagBucketLeaf == 0 {
			continue
		}
		name := string(p[at+pos : at+pos+ksize])
		if bucket != "(root)" {
			name = bucket + "/" + name
		}
		v := p[at+pos+ksize : at+pos+ksize+vsize]
		if len(v) < bucketHeaderSize {
			w.add(key, "bucket %s has a header of %d bytes", name, len(v))
			continue
		}
		if root := binary.LittleEndian.Uint64(v); root != 0 {
			next = append(next, pageRef{id: root, bucket: name})
			continue
		}
		inline := v[bucketHeaderSize:]
		if len(inline) < pageHeaderSize {
			w.add(key, "inline bucket %s is cut short", name)
			continue
		}
		if f := binary.LittleEndian.Uint16(inline[8:]); f != flagLeaf {
			w.add(key, "inline bucket %s has page type %#x, want leaf", name, f)
			continue
		}
		next = append(next, w.elements(inline, id, name)...)
	}
	return next
}
