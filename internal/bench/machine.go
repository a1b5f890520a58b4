package bench

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Machine describes where a run happened.
type Machine struct {
	CPUs      int
	CPUModel  string
	MemoryMiB int64
	Kernel    string
	Go        string
	// Load is the 1-minute load average when the run started: a busy machine
	// explains slow figures.
	Load string
}

// ReadMachine reads the machine's description from /proc; fields it cannot
// read stay empty.
func ReadMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPUModel = procField(b, "model name")
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		m.MemoryMiB = procKiB(b, "MemTotal") / 1024
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			m.Load = f[0]
		}
	}
	return m
}

// procField returns the value of the first "key: value" line of a /proc file.
func procField(b []byte, key string) string {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// procKiB reads a "Key:   1234 kB" line as KiB; -1 when absent.
func procKiB(b []byte, key string) int64 {
	f := strings.Fields(procField(b, key))
	if len(f) == 0 {
		return -1
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// Memory is a process's resident set: now and its peak so far, in KiB.
type Memory struct {
	RSS, HWM int64
}

// ReadMemory reads /proc/<pid>/status ("self" for this process).
func ReadMemory(pid string) (Memory, bool) {
	b, err := os.ReadFile("/proc/" + pid + "/status") //nolint:gosec // a pid, not user input
	if err != nil {
		return Memory{}, false
	}
	m := Memory{RSS: procKiB(b, "VmRSS"), HWM: procKiB(b, "VmHWM")}
	return m, m.RSS >= 0 && m.HWM >= 0
}
