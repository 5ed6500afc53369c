package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// JSONMessage is one message of a JSON progress stream (pull, push, build,
// load).
type JSONMessage struct {
	Stream      string          `json:"stream,omitempty"`
	Status      string          `json:"status,omitempty"`
	ID          string          `json:"id,omitempty"`
	Progress    string          `json:"progress,omitempty"`
	Error       string          `json:"error,omitempty"`
	ErrorDetail *ErrorDetail    `json:"errorDetail,omitempty"`
	Aux         json.RawMessage `json:"aux,omitempty"`
}

// ErrorDetail is the structured error of a stream message.
type ErrorDetail struct {
	Code    int    `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

// maxStreamMessage bounds one message of a JSON stream.
const maxStreamMessage = 4 << 20

// DecodeStream reads a JSON message stream as it arrives and calls fn for
// each message (fn may be nil). A message carrying an error ends the stream
// with a *StreamError; a malformed message ends it with a decode error.
func DecodeStream(r io.Reader, fn func(JSONMessage) error) error {
	lr := &limitedReader{r: r}
	dec := json.NewDecoder(lr)
	for {
		lr.n = maxStreamMessage
		var m JSONMessage
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			if lr.n <= 0 {
				return &AnswerTooLargeError{Kind: "stream message", Limit: maxStreamMessage, Unit: "bytes"}
			}
			return fmt.Errorf("decode stream message: %w", err)
		}
		if m.Error != "" || m.ErrorDetail != nil {
			se := &StreamError{Message: m.Error}
			if m.ErrorDetail != nil {
				se.Code = m.ErrorDetail.Code
				if se.Message == "" {
					se.Message = m.ErrorDetail.Message
				}
			}
			se.Message = cutMessage(se.Message)
			return se
		}
		if fn != nil {
			if err := fn(m); err != nil {
				return err
			}
		}
	}
}

// limitedReader fails reads once n bytes were read since the last reset, so
// one message cannot grow without bound.
type limitedReader struct {
	r io.Reader
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errors.New("stream message too large")
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}
