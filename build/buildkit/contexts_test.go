package buildkit

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestReplaceContextRef(t *testing.T) {
	tests := []struct{ in, want string }{
		{"FROM src\n", "FROM img:1\n"},
		{"from --platform=linux/amd64 src AS b\n", "from --platform=linux/amd64 img:1 AS b\n"},
		{"FROM src2\n", "FROM src2\n"},
		{"FROM base\nCOPY --from=src /a /b\n", "FROM base\nCOPY --from=img:1 /a /b\n"},
		{"COPY --from=srcx /a /b\n", "COPY --from=srcx /a /b\n"},
		{"RUN --mount=from=src,target=/m ls\n", "RUN --mount=from=img:1,target=/m ls\n"},
		{"RUN --mount=type=bind,from=src,target=/m ls\n", "RUN --mount=type=bind,from=img:1,target=/m ls\n"},
		{"RUN echo from=src --from=src\n", "RUN echo from=src --from=img:1\n"},
		{"RUN --mount=from=src echo from=src\n", "RUN --mount=from=img:1 echo from=src\n"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, string(replaceContextRef([]byte(tt.in), "src", "img:1")), tt.in)
	}
	assert.Equal(t, map[string]bool{"build": true, "final": true}, stageNames([]byte("FROM a AS build\nRUN x\nfrom build as Final\n")))
}
