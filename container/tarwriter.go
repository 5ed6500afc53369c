package container

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// This file writes the tar stream that copies files into a container. It
// does only what that needs (regular files, directories, symlinks and
// FIFOs owned by root) in the ustar format, with a PAX extended header for
// a name, link target or size that ustar cannot hold. archive/tar's writer
// handles every format and field, and links ~25 kB of code into every test
// binary that starts a container; the engine needs none of it.

// Entry types of the tar format.
const (
	tarTypeReg     byte = '0'
	tarTypeSymlink byte = '2'
	tarTypeDir     byte = '5'
	tarTypeFifo    byte = '6'
	tarTypePAX     byte = 'x'
)

const tarBlock = 512

// tarEntry is one file of the stream.
type tarEntry struct {
	Name     string // slash-separated, relative to the extraction root
	Type     byte
	Mode     int64 // permission, setuid, setgid and sticky bits
	Size     int64 // regular files only
	Linkname string
	ModTime  time.Time
}

// errTarWriteTooLong reports content beyond the size the entry's header
// announced.
var errTarWriteTooLong = errors.New("tar: write beyond the entry's size")

// tarWriter writes entries and their content; Close ends the stream.
type tarWriter struct {
	w         io.Writer
	remaining int64 // content bytes the current entry still expects
	pad       int64 // zero bytes that end the current entry's last block
	paxSeq    int
}

func newTarWriter(w io.Writer) *tarWriter { return &tarWriter{w: w} }

// WriteHeader ends the previous entry and starts e; regular files' content
// follows through Write.
func (tw *tarWriter) WriteHeader(e tarEntry) error {
	if err := tw.finishEntry(); err != nil {
		return err
	}
	if e.Type != tarTypeReg {
		e.Size = 0
	}
	if e.Size < 0 {
		return fmt.Errorf("tar: %s: negative size", e.Name)
	}
	var pax []string
	name, link := e.Name, e.Linkname
	if !fitsUSTAR(name, 100) {
		pax = append(pax, paxRecord("path", name))
		name = asciiPrefix(name, 100)
	}
	if !fitsUSTAR(link, 100) {
		pax = append(pax, paxRecord("linkpath", link))
		link = asciiPrefix(link, 100)
	}
	size := e.Size
	if size > 0o77777777777 {
		pax = append(pax, paxRecord("size", strconv.FormatInt(size, 10)))
		size = 0
	}
	if len(pax) > 0 {
		var body []byte
		for _, r := range pax {
			body = append(body, r...)
		}
		tw.paxSeq++
		hdr := ustarHeader(asciiPrefix(fmt.Sprintf("PaxHeaders.%d/%s", tw.paxSeq, name), 100), tarTypePAX, 0, int64(len(body)), "", time.Time{})
		if _, err := tw.w.Write(hdr); err != nil {
			return err
		}
		if _, err := tw.w.Write(append(body, make([]byte, padding(int64(len(body))))...)); err != nil {
			return err
		}
	}
	if _, err := tw.w.Write(ustarHeader(name, e.Type, e.Mode, size, link, e.ModTime)); err != nil {
		return err
	}
	tw.remaining, tw.pad = e.Size, padding(e.Size)
	return nil
}

// Write writes content of the current entry.
func (tw *tarWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > tw.remaining {
		n, err := tw.Write(p[:tw.remaining])
		if err == nil {
			err = errTarWriteTooLong
		}
		return n, err
	}
	n, err := tw.w.Write(p)
	tw.remaining -= int64(n)
	return n, err
}

func (tw *tarWriter) finishEntry() error {
	if tw.remaining > 0 {
		return fmt.Errorf("tar: entry ended %d bytes short of its size (did the file change while it was copied?)", tw.remaining)
	}
	if tw.pad > 0 {
		if _, err := tw.w.Write(make([]byte, tw.pad)); err != nil {
			return err
		}
		tw.pad = 0
	}
	return nil
}

// Close ends the last entry and writes the two zero blocks that end a tar
// stream. It does not close the underlying writer.
func (tw *tarWriter) Close() error {
	if err := tw.finishEntry(); err != nil {
		return err
	}
	_, err := tw.w.Write(make([]byte, 2*tarBlock))
	return err
}

func padding(size int64) int64 { return -size & (tarBlock - 1) }

// ustarHeader encodes one header block; the numbers must fit their fields.
func ustarHeader(name string, typ byte, mode, size int64, link string, mtime time.Time) []byte {
	b := make([]byte, tarBlock)
	copy(b[0:100], name)
	octal(b[100:108], mode)
	octal(b[108:116], 0) // uid
	octal(b[116:124], 0) // gid
	octal(b[124:136], size)
	octal(b[136:148], max(0, min(mtime.Unix(), 0o77777777777)))
	b[156] = typ
	copy(b[157:257], link)
	copy(b[257:265], "ustar\x0000")
	octal(b[329:337], 0) // devmajor
	octal(b[337:345], 0) // devminor
	copy(b[148:156], "        ")
	sum := int64(0)
	for _, c := range b {
		sum += int64(c)
	}
	octal(b[148:155], sum) // six digits, NUL, then the space left in place
	return b
}

// octal writes v as zero-padded octal digits followed by a NUL.
func octal(field []byte, v int64) {
	s := strconv.FormatInt(v, 8)
	for len(s) < len(field)-1 {
		s = "0" + s
	}
	copy(field, s)
	field[len(field)-1] = 0
}

// fitsUSTAR reports whether s fits a ustar string field of n bytes as is:
// short enough and plain ASCII without NUL.
func fitsUSTAR(s string, n int) bool {
	if len(s) > n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 0 || s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// asciiPrefix is the stand-in for a value a PAX record carries: its ASCII
// characters, cut to n bytes.
func asciiPrefix(s string, n int) string {
	out := make([]byte, 0, min(len(s), n))
	for i := 0; i < len(s) && len(out) < n; i++ {
		if s[i] != 0 && s[i] < 0x80 {
			out = append(out, s[i])
		}
	}
	return string(out)
}

// paxRecord formats "LEN key=value\n", where LEN counts the whole record,
// itself included.
func paxRecord(key, value string) string {
	rest := " " + key + "=" + value + "\n"
	n := len(rest)
	for n != len(strconv.Itoa(n))+len(rest) {
		n = len(strconv.Itoa(n)) + len(rest)
	}
	return strconv.Itoa(n) + rest
}
