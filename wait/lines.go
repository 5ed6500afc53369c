package wait

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// maxLine is the most of one log line a strategy holds, the size the
// container package's FollowLogs delivers an endless line in. A longer
// line is matched in windows of maxLine bytes, each overlapping the one
// before by half, so a match up to maxLine/2 bytes long is found wherever
// it falls, and memory stays bounded whatever a container writes.
const maxLine = 1 << 20

// scanLines reads r and calls fn with each line, without its "\n" or
// "\r\n". A line longer than maxLine comes as overlapping windows: the first
// with start true, the rest with start false. scanLines returns nil when fn
// returns true (stop), else the error that ended r (io.EOF at its end),
// after fn saw what came before it.
func scanLines(r io.Reader, fn func(line []byte, start bool) (stop bool)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var buf []byte
	start := true
	for {
		chunk, err := br.ReadSlice('\n')
		switch {
		case err == nil:
			// A whole line, or the end of a long one.
			buf = append(buf, chunk...)
			if fn(trimEOL(buf), start) {
				return nil
			}
			buf, start = buf[:0], true
		case errors.Is(err, bufio.ErrBufferFull):
			buf = append(buf, chunk...)
			if len(buf) >= maxLine {
				if fn(buf, start) {
					return nil
				}
				kept := copy(buf, buf[len(buf)-maxLine/2:])
				buf, start = buf[:kept], false
			}
		default:
			buf = append(buf, chunk...)
			if len(buf) > 0 && fn(trimEOL(buf), start) {
				return nil
			}
			return err
		}
	}
}

func trimEOL(line []byte) []byte {
	line = bytes.TrimSuffix(line, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r"))
}

// lineCounter counts lines that match, each line once however many of its
// windows match.
type lineCounter struct {
	match   func([]byte) bool
	n       int
	matched bool // the current line matched already
}

// add reports whether the window brought a new matching line.
func (c *lineCounter) add(window []byte, start bool) bool {
	if start {
		c.matched = false
	}
	if c.matched || !c.match(window) {
		return false
	}
	c.matched = true
	c.n++
	return true
}
