package ws

import (
	"fmt"
	"io"
	"os"
	"time"
)

// progress shows what a wait is waiting for: a spinner line rewritten in place on a terminal,
// and a plain line per change otherwise (logs, CI, pipes).
type progress struct {
	w           io.Writer
	tty         bool
	name, until string
	last        string
	frame       int
	started     time.Time
	shown       bool
}

var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func newProgress(w io.Writer, name, until string) *progress {
	return &progress{w: w, tty: isTerminal(w), name: name, until: until, started: time.Now()}
}

// interval is how often the caller polls: often enough for a smooth spinner on a terminal.
func (p *progress) interval() time.Duration {
	if p.tty {
		return 150 * time.Millisecond
	}
	return 500 * time.Millisecond
}

func (p *progress) update(state string) {
	if p.tty {
		p.frame = (p.frame + 1) % len(spinnerFrames)
		// \r and "erase to end of line" rewrite the one status line.
		fmt.Fprintf(p.w, "\r\033[K%s waiting for %s to be %s: %s [%s]", spinnerFrames[p.frame], p.name, p.until, state, time.Since(p.started).Round(time.Second))
		p.shown = true
		return
	}
	if state == p.last {
		return
	}
	p.last = state
	fmt.Fprintf(p.w, "waiting for %s to be %s: %s\n", p.name, p.until, state)
}

// done clears the spinner line.
func (p *progress) done() {
	if p.tty && p.shown {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
