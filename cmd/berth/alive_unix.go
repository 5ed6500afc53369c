//go:build !windows

package main

import "syscall"

// processAlive reports whether a process with this PID runs here.
func processAlive(pid int) bool { return syscall.Kill(pid, 0) == nil }
