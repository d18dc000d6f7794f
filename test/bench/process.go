package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat: 100 on every Linux
// architecture Go supports.
const clockTicks = 100

// ProcessSample is one reading of a process's resources.
type ProcessSample struct {
	// RSSMiB is VmRSS from /proc/<pid>/status, in MiB.
	RSSMiB float64 `json:"rssMiB"`
	// CPUSeconds is utime+stime from /proc/<pid>/stat since the process started, in seconds.
	CPUSeconds float64 `json:"cpuSeconds"`
	// Goroutines is go_goroutines from the process's /metrics.
	Goroutines float64 `json:"goroutines"`
}

// sampleProcess reads pid's RSS and CPU time from /proc and its goroutines from metricsURL.
func sampleProcess(ctx context.Context, pid int, metricsURL string) (ProcessSample, error) {
	var s ProcessSample
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, fmt.Errorf("failed to read the status of process %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest) // "123456 kB"
			if len(f) > 0 {
				kb, _ := strconv.ParseFloat(f[0], 64)
				s.RSSMiB = kb / 1024
			}
		}
	}
	if s.CPUSeconds, err = processCPU(pid); err != nil {
		return s, err
	}
	m, err := scrape(ctx, metricsURL)
	if err != nil {
		return s, err
	}
	s.Goroutines = m.sum("go_goroutines", "")
	return s, nil
}

// processCPU reads utime+stime of pid from /proc/<pid>/stat, in seconds.
func processCPU(pid int) (float64, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("failed to read the stat of process %d: %w", pid, err)
	}
	// The command name (field 2) may hold spaces; count fields after its closing parenthesis.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("failed to parse the stat of process %d", pid)
	}
	utime, _ := strconv.ParseFloat(fields[11], 64) // field 14 of stat
	stime, _ := strconv.ParseFloat(fields[12], 64) // field 15
	return (utime + stime) / clockTicks, nil
}

// machineCPU reads the busy and total CPU time of all CPUs from /proc/stat, in seconds.
func machineCPU() (busy, total float64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, fmt.Errorf("failed to read /proc/stat: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0, errors.New("failed to parse /proc/stat")
	}
	for i, v := range f[1:] {
		x, _ := strconv.ParseFloat(v, 64)
		total += x
		if i != 3 && i != 4 { // idle, iowait
			busy += x
		}
	}
	return busy / clockTicks, total / clockTicks, nil
}

// loadAverage reads the 1-minute load average.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// metrics is a Prometheus text exposition, one sample per line.
type metrics []string

func scrape(ctx context.Context, url string) (metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("failed to build request for %s: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("failed to scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	var out metrics
	s := bufio.NewScanner(io.LimitReader(resp.Body, 64<<20))
	s.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for s.Scan() {
		if line := s.Text(); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out, s.Err()
}

// sum adds the values of the samples of name whose labels contain labelSubstring.
func (m metrics) sum(name, labelSubstring string) float64 {
	var total float64
	for _, line := range m {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		if labelSubstring != "" && !strings.Contains(rest, labelSubstring) {
			continue
		}
		f := strings.Fields(rest[strings.LastIndexByte(rest, '}')+1:])
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err == nil {
			total += v
		}
	}
	return total
}

// sumBy adds the values of the samples of name by the value of their label label, counting
// only samples whose labels contain labelSubstring.
func (m metrics) sumBy(name, label, labelSubstring string) map[string]float64 {
	out := map[string]float64{}
	for _, line := range m {
		rest, ok := strings.CutPrefix(line, name+"{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(rest, "}")
		if !ok || (labelSubstring != "" && !strings.Contains(labels, labelSubstring)) {
			continue
		}
		_, after, ok := strings.Cut(","+labels, ","+label+`="`)
		if !ok {
			continue
		}
		key, _, _ := strings.Cut(after, `"`)
		f := strings.Fields(value)
		if len(f) == 0 {
			continue
		}
		if v, err := strconv.ParseFloat(f[0], 64); err == nil {
			out[key] += v
		}
	}
	return out
}
