package modkit

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/berth-go/berth"
)

// InitDir is where images like the official postgres, mysql and mariadb
// ones find the scripts (*.sql, *.sql.gz, *.sh) they run once, at the first
// start of a fresh data directory, in the order of their names.
const InitDir = "/docker-entrypoint-initdb.d"

// InitScripts collects a server's init scripts, host files and SQL text,
// for an image that runs InitDir. A module's InitScript and InitSQL methods
// add to it; its container description calls ApplyTo. The zero value is
// empty and ready to use.
type InitScripts struct{ files []initFile }

type initFile struct {
	hostPath string // or content
	content  []byte
	name     string // base name in InitDir
}

// AddFiles adds host files, in the order given. A path that does not exist
// or is a directory is an error and adds nothing; relative paths start at
// the working directory (in a test, the package's directory).
func (s *InitScripts) AddFiles(paths ...string) error {
	add := make([]initFile, 0, len(paths))
	for _, p := range paths {
		st, err := os.Stat(p)
		switch {
		case os.IsNotExist(err):
			return fmt.Errorf("%s does not exist: fix the path (relative paths start at the package directory)", p)
		case err != nil:
			return err
		case st.IsDir():
			return fmt.Errorf("%s is a directory: pass the script files", p)
		}
		add = append(add, initFile{hostPath: p, name: filepath.Base(p)})
	}
	s.files = append(s.files, add...)
	return nil
}

// AddSQL adds sql as a script of its own, after those added before.
func (s *InitScripts) AddSQL(sql string) {
	s.files = append(s.files, initFile{content: []byte(sql), name: "init.sql"})
}

// Len is how many scripts were added.
func (s *InitScripts) Len() int { return len(s.files) }

// ApplyTo copies the scripts into InitDir of cb's container, each name
// prefixed with its place ("000-schema.sql", "001-init.sql", ...), so the
// image runs them in the order they were added.
func (s *InitScripts) ApplyTo(cb *berth.ContainerBuilder) {
	for i, f := range s.files {
		target := fmt.Sprintf("%s/%03d-%s", InitDir, i, f.name)
		if f.hostPath != "" {
			cb.File(f.hostPath, target)
		} else {
			cb.FileContent(target, f.content, 0o644)
		}
	}
}
