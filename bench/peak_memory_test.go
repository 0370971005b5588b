package bench

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"time"
)

// memorySampler records the highest heap in use, memory obtained from the OS by the Go runtime,
// and resident set size seen while it runs. It samples every interval (runtime.ReadMemStats
// stops the world for some microseconds: keep interval at a few ms).
type memorySampler struct {
	stop     chan struct{}
	done     sync.WaitGroup
	heapPeak uint64 // HeapInuse, bytes
	sysPeak  uint64 // Sys, bytes
	rssPeak  uint64 // VmRSS, bytes
}

func startMemorySampler(interval time.Duration) *memorySampler {
	s := &memorySampler{stop: make(chan struct{})}
	s.sample()
	s.done.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.sample()
			}
		}
	})
	return s
}

func (s *memorySampler) sample() {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	s.heapPeak = max(s.heapPeak, m.HeapInuse)
	s.sysPeak = max(s.sysPeak, m.Sys)
	s.rssPeak = max(s.rssPeak, procStatus()["VmRSS"])
}

// finish stops sampling, after a last sample.
func (s *memorySampler) finish() {
	close(s.stop)
	s.done.Wait()
	s.sample()
}

// settleMemory collects garbage and returns freed memory to the OS, so that what is measured
// next starts from the live heap only, and resets the kernel's high-water mark of the resident
// set (VmHWM); it reports whether the reset worked (Linux 4.0 on, clear_refs writable).
func settleMemory() (hwmReset bool) {
	runtime.GC()
	debug.FreeOSMemory()
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// procStatus reads the memory lines of /proc/self/status (VmRSS, VmHWM, ...) in bytes; empty
// where there is no procfs.
func procStatus() map[string]uint64 {
	out := map[string]uint64{}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return out
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok || !bytes.HasPrefix(name, []byte("Vm")) {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			continue
		}
		if kb, err := strconv.ParseUint(string(f[0]), 10, 64); err == nil {
			out[string(name)] = kb << 10
		}
	}
	return out
}
