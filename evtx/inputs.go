package evtx

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// zipFloor is the uncompressed size below which the compression-ratio cap is
// not applied: a small, mostly empty EVTX file (a cleared log is a header and
// zero-filled chunks) compresses far beyond any sane ratio and is harmless.
const zipFloor = 16 << 20

var zipMagic = []byte("PK\x03\x04")

// evidence is one candidate file: a plain file or a zip member.
type evidence struct {
	src  Source
	size int64
	// readerAt gives random access (plain files, stored zip members); nil for
	// compressed members, which are read as a stream from open.
	readerAt io.ReaderAt
	open     func() (io.ReadCloser, error)
	// refused, when set, is the reason the file is reported without reading.
	refused error
	status  string
}

// stream returns a sequential reader over the whole evidence.
func (e *evidence) stream() (io.ReadCloser, error) {
	if e.readerAt != nil {
		return io.NopCloser(io.NewSectionReader(e.readerAt, 0, e.size)), nil
	}
	return e.open()
}

// walkInputs calls fn for every candidate file under inputs, in input order
// and lexical order inside directories and archives.
func walkInputs(ctx context.Context, inputs []string, opt Options, fn func(*evidence) error) error {
	for _, in := range inputs {
		err := filepath.WalkDir(in, func(path string, d fs.DirEntry, err error) error {
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			if err != nil {
				// An unreadable directory or file below the input is reported, not fatal.
				if path == in && d == nil {
					return err
				}
				return fn(&evidence{src: Source{Path: path}, refused: err, status: StatusFailed})
			}
			if d.IsDir() {
				return nil
			}
			if d.Type()&fs.ModeSymlink != 0 {
				st, serr := os.Stat(path)
				if serr != nil || !st.Mode().IsRegular() {
					return nil
				}
			} else if !d.Type().IsRegular() {
				return nil
			}
			return walkFile(path, opt, fn)
		})
		if err != nil {
			return fmt.Errorf("evtx: walk %s: %w", in, err)
		}
	}
	return nil
}

// walkFile hands a plain file, or each member of a zip archive, to fn.
func walkFile(path string, opt Options, fn func(*evidence) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fn(&evidence{src: Source{Path: path}, refused: fmt.Errorf("evtx: open %s: %w", path, err), status: StatusFailed})
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fn(&evidence{src: Source{Path: path}, refused: fmt.Errorf("evtx: stat %s: %w", path, err), status: StatusFailed})
	}
	var magic [4]byte
	n, _ := f.ReadAt(magic[:], 0)
	if n == 4 && bytes.Equal(magic[:], zipMagic) {
		zr, err := zip.NewReader(f, st.Size())
		// ErrInsecurePath comes with a usable reader; such members are refused one by one.
		if err == nil || (errors.Is(err, zip.ErrInsecurePath) && zr != nil) {
			return walkZip(path, f, zr, opt, fn)
		}
		// Not a readable archive: let the EVTX check report it.
	}
	return fn(&evidence{src: Source{Path: path}, size: st.Size(), readerAt: f})
}

func walkZip(path string, f *os.File, zr *zip.Reader, opt Options, fn func(*evidence) error) error {
	for _, m := range zr.File {
		if strings.HasSuffix(m.Name, "/") {
			continue
		}
		ev := &evidence{src: Source{Path: path, Member: m.Name}, size: int64(m.UncompressedSize64)}
		if err := checkMember(m, opt); err != nil {
			ev.refused, ev.status = err, StatusFailed
			if err := fn(ev); err != nil {
				return err
			}
			continue
		}
		if m.Method == zip.Store && m.CompressedSize64 == m.UncompressedSize64 {
			if off, err := m.DataOffset(); err == nil {
				ev.readerAt = io.NewSectionReader(f, off, int64(m.UncompressedSize64))
			}
		}
		ev.open = m.Open
		if err := fn(ev); err != nil {
			return err
		}
	}
	return nil
}

// checkMember refuses unsafe member paths and zip bombs.
func checkMember(m *zip.File, opt Options) error {
	name := strings.ReplaceAll(m.Name, "\\", "/")
	if strings.HasPrefix(name, "/") || (len(name) > 1 && name[1] == ':') {
		return fmt.Errorf("%w: %q is absolute", ErrZipMember, m.Name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return fmt.Errorf("%w: %q climbs out of the archive", ErrZipMember, m.Name)
		}
	}
	size := m.UncompressedSize64
	if size > uint64(opt.MaxZipMember) {
		return fmt.Errorf("%w: %q is %d bytes uncompressed (cap %d)", ErrZipBomb, m.Name, size, opt.MaxZipMember)
	}
	if size > zipFloor {
		if m.CompressedSize64 == 0 || size/m.CompressedSize64 > uint64(opt.MaxZipRatio) {
			return fmt.Errorf("%w: %q expands %d -> %d bytes (ratio cap %d)", ErrZipBomb, m.Name, m.CompressedSize64, size, opt.MaxZipRatio)
		}
	}
	return nil
}

// errNotEVTX builds the skip reason for a file without the EVTX magic.
func errNotEVTX(head []byte) error {
	if bytes.HasPrefix(head, zipMagic) {
		return fmt.Errorf("%w: zip archive inside an archive is not read", ErrNotEVTX)
	}
	if len(head) < len(fileMagic) {
		return fmt.Errorf("%w: %d bytes, shorter than the magic", ErrNotEVTX, len(head))
	}
	return fmt.Errorf("%w: magic %q", ErrNotEVTX, head[:len(fileMagic)])
}
