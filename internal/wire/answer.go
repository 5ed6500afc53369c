package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Bounds on what the client reads of an engine's answer. A broken engine,
// or something between it and berth, can send a string of gigabytes or an
// array without end; nothing it sends may take the test process with it.
// Real answers are far below these: a container's inspect is ~10 KiB, a
// list of a thousand containers ~2 MiB.
const (
	// maxAnswer bounds the answer of a call about one object (inspect,
	// create, version, info, top, ...).
	maxAnswer = 4 << 20
	// maxListAnswer bounds a list answer (containers, images, networks,
	// volumes, changes), read element by element so only one element is
	// buffered at a time.
	maxListAnswer = 16 << 20
	// maxAnswerValues and maxListValues bound the number of JSON values
	// (objects, arrays and their elements): a decoded value costs far
	// more than its bytes ("{}," is 3 bytes, a decoded struct ~100), so
	// a byte bound alone does not bound memory.
	maxAnswerValues = 1 << 17
	maxListValues   = 1 << 17
	// maxEvent bounds one message of the events stream.
	maxEvent = 1 << 20
	// maxErrorBody bounds how much of an error answer is read, and
	// maxErrorMessage how much of its message an error quotes.
	maxErrorBody    = 64 << 10
	maxErrorMessage = 4 << 10
)

// ErrAnswerTooLarge matches an *AnswerTooLargeError.
var ErrAnswerTooLarge = errors.New("engine answer too large")

// AnswerTooLargeError says the engine's answer to a call went past the
// bound berth keeps for that kind of answer; reading stopped there.
type AnswerTooLargeError struct {
	Method, Path string
	// Kind is the kind of answer, e.g. "answer", "list answer",
	// "list element", "stream message", "event", "answer header".
	Kind string
	// Limit is the bound that was passed, in Unit.
	Limit int64
	Unit  string // "bytes" or "JSON values"
}

func (e *AnswerTooLargeError) Error() string {
	limit := fmt.Sprintf("%d %s", e.Limit, e.Unit)
	if e.Unit == "bytes" {
		limit = sizeString(e.Limit)
	}
	msg := fmt.Sprintf("the %s exceeds %s, berth's bound for it; reading stopped there: the engine, or a proxy in front of it, sent more than any real answer holds", e.Kind, limit)
	if e.Method == "" {
		return "engine: " + msg
	}
	return fmt.Sprintf("engine: %s %s: %s", e.Method, e.Path, msg)
}

// Is makes the error match ErrAnswerTooLarge.
func (e *AnswerTooLargeError) Is(target error) bool { return target == ErrAnswerTooLarge }

func sizeString(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// answerGuard reads an answer and fails once it passes its byte or value
// bound. It follows the JSON structure of what passes (strings and their
// escapes) to count values without decoding them.
type answerGuard struct {
	r              io.Reader
	method, path   string
	kind           string
	read, maxBytes int64
	values, maxVal int64
	// elemStart is where the current list element began, when elements
	// are bounded one by one (maxElem > 0).
	elemStart, maxElem int64
	inString, esc      bool
	err                error
}

func newAnswerGuard(r io.Reader, method, path, kind string, maxBytes, maxValues int64) *answerGuard {
	return &answerGuard{r: r, method: method, path: path, kind: kind, maxBytes: maxBytes, maxVal: maxValues}
}

func (g *answerGuard) tooLarge(limit int64, unit string) error {
	return &AnswerTooLargeError{Method: g.method, Path: g.path, Kind: g.kind, Limit: limit, Unit: unit}
}

func (g *answerGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if rest := g.maxBytes - g.read; int64(len(p)) > rest+1 {
		p = p[:rest+1] // one byte more than allowed tells "too large" from "exactly the bound"
	}
	n, err := g.r.Read(p)
	g.read += int64(n)
	if g.read > g.maxBytes {
		g.err = g.tooLarge(g.maxBytes, "bytes")
		return 0, g.err
	}
	// The decoder reads ahead, so an element's size is known give or
	// take one read.
	if g.maxElem > 0 && g.read-g.elemStart > g.maxElem {
		g.err = &AnswerTooLargeError{Method: g.method, Path: g.path, Kind: "list element", Limit: g.maxElem, Unit: "bytes"}
		return 0, g.err
	}
	g.count(p[:n])
	if g.values > g.maxVal {
		g.err = g.tooLarge(g.maxVal, "JSON values")
		return 0, g.err
	}
	return n, err
}

// answerBound is the bound of one kind of answer.
type answerBound struct {
	kind          string
	bytes, values int64
}

var (
	objectAnswer = answerBound{"answer", maxAnswer, maxAnswerValues}
	listAnswer   = answerBound{"list answer", maxListAnswer, maxListValues}
)

// count follows b's strings and escapes and counts the values begun
// outside strings ('{', '[' and ','), jumping from one byte that matters
// to the next.
func (g *answerGuard) count(b []byte) {
	for len(b) > 0 {
		if g.esc {
			g.esc = false
			b = b[1:]
			continue
		}
		if g.inString {
			i := bytes.IndexAny(b, `"\`)
			if i < 0 {
				return
			}
			if b[i] == '\\' {
				g.esc = true
			} else {
				g.inString = false
			}
			b = b[i+1:]
			continue
		}
		i := bytes.IndexAny(b, `"{[,`)
		if i < 0 {
			return
		}
		if b[i] == '"' {
			g.inString = true
		} else {
			g.values++
		}
		b = b[i+1:]
	}
}

// decodeAnswer decodes one JSON value from body into out within bound b.
func decodeAnswer(body io.Reader, method, path string, b answerBound, out any) error {
	g := newAnswerGuard(body, method, path, b.kind, b.bytes, b.values)
	if err := json.NewDecoder(g).Decode(out); err != nil {
		var tl *AnswerTooLargeError
		if errors.As(err, &tl) {
			return tl
		}
		return fmt.Errorf("engine: %s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// decodeList decodes a JSON array answer one element at a time within
// listAnswer's bounds.
func decodeList[T any](body io.Reader, method, path string) ([]T, error) {
	g := newAnswerGuard(body, method, path, listAnswer.kind, listAnswer.bytes, listAnswer.values)
	dec := json.NewDecoder(g)
	fail := func(err error) ([]T, error) {
		var tl *AnswerTooLargeError
		if errors.As(err, &tl) {
			return nil, tl
		}
		return nil, fmt.Errorf("engine: %s %s: decode answer: %w", method, path, err)
	}
	tok, err := dec.Token()
	if err != nil {
		return fail(err)
	}
	if tok == nil {
		return nil, nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fail(fmt.Errorf("expected a JSON array, got %v", tok))
	}
	var out []T
	g.maxElem = maxAnswer
	for dec.More() {
		g.elemStart = g.read
		var v T
		if err := dec.Decode(&v); err != nil {
			return fail(err)
		}
		out = append(out, v)
	}
	if _, err := dec.Token(); err != nil {
		return fail(err)
	}
	return out, nil
}

// cutMessage shortens an engine message quoted in an error to
// maxErrorMessage bytes, saying how much was left out.
func cutMessage(msg string) string {
	if len(msg) <= maxErrorMessage {
		return msg
	}
	return fmt.Sprintf("%s… [%d more bytes cut]", strings.ToValidUTF8(msg[:maxErrorMessage], ""), len(msg)-maxErrorMessage)
}
