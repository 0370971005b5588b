//go:build unix

package embedded

import "syscall"

// detached puts a child in its own process group, so a Ctrl-C to storeline does not reach it.
func detached() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// alive reports whether a process exists (signal 0).
func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }
