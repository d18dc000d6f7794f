package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ProfileSummary is what the profiles of one process say, and where they are.
type ProfileSummary struct {
	// CPUFile is the CPU profile taken during the burst (the parts merged), relative to the
	// results' directory.
	CPUFile string `json:"cpuFile,omitempty"`
	// CPUSampledSeconds is the wall time the CPU profile covers.
	CPUSampledSeconds float64 `json:"cpuSampledSeconds,omitempty"`
	// HeapFile is the heap profile with every workspace in place (after a GC).
	HeapFile string `json:"heapFile,omitempty"`
	// GoroutineFile is the goroutine dump (debug=1) taken halfway through the burst.
	GoroutineFile string `json:"goroutineFile,omitempty"`
	// CPUTop are the functions with the most CPU time of their own (flat).
	CPUTop []TopEntry `json:"cpuTop,omitempty"`
	// CPUTopAtrium are Atrium's own functions by cumulative CPU time (what they and their
	// callees cost).
	CPUTopAtrium []TopEntry `json:"cpuTopAtrium,omitempty"`
	// HeapTop are the functions holding the most live heap (inuse_space, flat).
	HeapTop []TopEntry `json:"heapTop,omitempty"`
	// ThrottledGoroutines counts goroutines of the mid-burst dump waiting for a client-side
	// rate limiter (client-go's token bucket): a sign the QPS limits bound throughput.
	ThrottledGoroutines int `json:"throttledGoroutines"`
}

// TopEntry is one line of `go tool pprof -top`.
type TopEntry struct {
	Function string  `json:"function"`
	Flat     string  `json:"flat"`
	FlatPct  float64 `json:"flatPct"`
	Cum      string  `json:"cum"`
	CumPct   float64 `json:"cumPct"`
}

// profiler takes pprof profiles of the measured processes over their --pprof-bind-address.
type profiler struct {
	dir string
	// targets are the processes' pprof base URLs (http://host:port), by process name.
	targets map[string]string
	// cpuPart is the length of each CPU profile request; consecutive parts are merged.
	cpuPart time.Duration
	logf    func(string, ...any)
}

func (p *profiler) url(name, path string) string { return p.targets[name] + "/debug/pprof/" + path }

// fetch writes the answer of url to file.
func fetch(ctx context.Context, url, file string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("failed to build request for %s: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("failed to fetch %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("failed to fetch %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	f, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("failed to create %s: %w", file, err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return fmt.Errorf("failed to write %s: %w", file, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("failed to write %s: %w", file, err)
	}
	return nil
}

// cpuRecording is a CPU profile being taken of every target, in consecutive parts.
type cpuRecording struct {
	p       *profiler
	start   time.Time
	stopped chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	parts   map[string][]string
	errs    []error
}

// startCPU starts profiling the CPU of every target until stop is called.
func (p *profiler) startCPU(ctx context.Context) *cpuRecording {
	rec := &cpuRecording{p: p, start: time.Now(), stopped: make(chan struct{}), parts: map[string][]string{}}
	seconds := max(1, int(p.cpuPart.Seconds()))
	for name := range p.targets {
		rec.wg.Add(1)
		go func() {
			defer rec.wg.Done()
			for i := 0; ; i++ {
				file := filepath.Join(p.dir, fmt.Sprintf("cpu-%s.part%03d.pb.gz", name, i))
				err := fetch(ctx, p.url(name, "profile?seconds="+strconv.Itoa(seconds)), file, time.Duration(seconds)*time.Second+time.Minute)
				rec.mu.Lock()
				if err != nil {
					rec.errs = append(rec.errs, err)
				} else {
					rec.parts[name] = append(rec.parts[name], file)
				}
				rec.mu.Unlock()
				select {
				case <-rec.stopped:
					return
				case <-ctx.Done():
					return
				default:
				}
				if err != nil {
					return
				}
			}
		}()
	}
	return rec
}

// stop waits for the parts in flight and merges each target's parts into cpu-<name>.pb.gz.
func (rec *cpuRecording) stop(ctx context.Context, out map[string]*ProfileSummary) error {
	close(rec.stopped)
	rec.wg.Wait()
	sampled := time.Since(rec.start).Seconds()
	errs := rec.errs
	for name, parts := range rec.parts {
		file := filepath.Join(rec.p.dir, "cpu-"+name+".pb.gz")
		if err := mergeProfiles(ctx, file, parts); err != nil {
			errs = append(errs, err)
			continue
		}
		s := summaryOf(out, name)
		s.CPUFile, s.CPUSampledSeconds = filepath.Base(file), sampled
		var err error
		if s.CPUTop, err = top(ctx, file, 15); err != nil {
			errs = append(errs, err)
		}
		cum, err := top(ctx, file, 400, "-cum")
		if err != nil {
			errs = append(errs, err)
		}
		for _, e := range cum {
			if strings.Contains(e.Function, "atrium-dev/atrium/") && len(s.CPUTopAtrium) < 15 {
				s.CPUTopAtrium = append(s.CPUTopAtrium, e)
			}
		}
	}
	return errors.Join(errs...)
}

// heap takes a heap profile of every target after a GC.
func (p *profiler) heap(ctx context.Context, out map[string]*ProfileSummary) error {
	var errs []error
	for name := range p.targets {
		file := filepath.Join(p.dir, "heap-"+name+".pb.gz")
		if err := fetch(ctx, p.url(name, "heap?gc=1"), file, time.Minute); err != nil {
			errs = append(errs, err)
			continue
		}
		s := summaryOf(out, name)
		s.HeapFile = filepath.Base(file)
		var err error
		if s.HeapTop, err = top(ctx, file, 15, "-sample_index=inuse_space"); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// goroutines dumps every target's goroutines (debug=1: grouped by stack) and counts those
// waiting for a client-side rate limiter.
func (p *profiler) goroutines(ctx context.Context, out map[string]*ProfileSummary) error {
	var errs []error
	for name := range p.targets {
		file := filepath.Join(p.dir, "goroutine-"+name+".txt")
		if err := fetch(ctx, p.url(name, "goroutine?debug=1"), file, time.Minute); err != nil {
			errs = append(errs, err)
			continue
		}
		s := summaryOf(out, name)
		s.GoroutineFile = filepath.Base(file)
		n, err := throttled(file)
		if err != nil {
			errs = append(errs, err)
		}
		s.ThrottledGoroutines = n
	}
	return errors.Join(errs...)
}

// throttled counts the goroutines of a debug=1 dump whose stack waits in client-go's rate
// limiter. Each group starts with "<count> @ <pcs>".
func throttled(file string) (int, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, fmt.Errorf("failed to read %s: %w", file, err)
	}
	total := 0
	for _, group := range strings.Split(string(b), "\n\n") {
		if !strings.Contains(group, "flowcontrol.(*tokenBucketPassiveRateLimiter).Wait") &&
			!strings.Contains(group, "flowcontrol.(*tokenBucketRateLimiter).Wait") &&
			!strings.Contains(group, "rate.(*Limiter).Wait") {
			continue
		}
		if f := strings.Fields(group); len(f) > 0 {
			n, _ := strconv.Atoi(f[0])
			total += n
		}
	}
	return total, nil
}

func summaryOf(out map[string]*ProfileSummary, name string) *ProfileSummary {
	if out[name] == nil {
		out[name] = &ProfileSummary{}
	}
	return out[name]
}

// goTool returns the go command that runs `go tool pprof`.
func goTool() string {
	if path, err := exec.LookPath("go"); err == nil {
		return path
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go") //nolint:staticcheck // only a fallback when go is not on PATH
}

// mergeProfiles merges parts into file (one part is renamed) and removes the parts.
func mergeProfiles(ctx context.Context, file string, parts []string) error {
	if len(parts) == 1 {
		return os.Rename(parts[0], file)
	}
	args := append([]string{"tool", "pprof", "-proto"}, parts...)
	cmd := exec.CommandContext(ctx, goTool(), args...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("failed to merge %d CPU profiles into %s: %w: %s", len(parts), file, err, strings.TrimSpace(stderr.String()))
	}
	if err := os.WriteFile(file, out.Bytes(), 0o644); err != nil {
		return fmt.Errorf("failed to write %s: %w", file, err)
	}
	for _, part := range parts {
		_ = os.Remove(part)
	}
	return nil
}

// top runs `go tool pprof -top` on file and parses its table.
func top(ctx context.Context, file string, n int, extra ...string) ([]TopEntry, error) {
	args := append([]string{"tool", "pprof", "-top", "-nodecount=" + strconv.Itoa(n)}, extra...)
	args = append(args, file)
	cmd := exec.CommandContext(ctx, goTool(), args...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("failed to read %s with go tool pprof: %w: %s", file, err, strings.TrimSpace(stderr.String()))
	}
	return parseTop(out.String()), nil
}

// parseTop parses the rows of `go tool pprof -top`: flat flat% sum% cum cum% function.
func parseTop(text string) []TopEntry {
	var out []TopEntry
	s := bufio.NewScanner(strings.NewReader(text))
	inTable := false
	for s.Scan() {
		line := s.Text()
		f := strings.Fields(line)
		if !inTable {
			inTable = len(f) >= 5 && f[0] == "flat" && f[1] == "flat%"
			continue
		}
		if len(f) < 6 {
			continue
		}
		pct := func(v string) float64 {
			x, _ := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
			return x
		}
		out = append(out, TopEntry{Flat: f[0], FlatPct: pct(f[1]), Cum: f[3], CumPct: pct(f[4]), Function: strings.Join(f[5:], " ")})
	}
	return out
}
