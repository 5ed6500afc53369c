package main

import "os"

// processAlive reports whether a process with this PID runs here: on
// Windows, finding a process opens it, which fails when it has exited.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	p.Release()
	return true
}
