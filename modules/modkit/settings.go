package modkit

import "iter"

// Settings are a server's options (key and value) in the order they were
// first set; setting a key again replaces its value and moves it last, so
// the later call wins on a command line that reads left to right too. A
// module's Config method checks the key's shape for its server and calls
// Set; its container description ranges over All. The zero value is empty.
type Settings struct{ list []setting }

type setting struct{ key, value string }

// Set sets key to value.
func (s *Settings) Set(key, value string) {
	for i, kv := range s.list {
		if kv.key == key {
			s.list = append(s.list[:i], s.list[i+1:]...)
			break
		}
	}
	s.list = append(s.list, setting{key, value})
}

// All yields the settings in order.
func (s *Settings) All() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for _, kv := range s.list {
			if !yield(kv.key, kv.value) {
				return
			}
		}
	}
}
