package console

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/atrium-dev/atrium/console/hubview"
	"github.com/atrium-dev/atrium/console/session"
)

// The pages are html/template files embedded in the binary. html/template escapes every value
// for its context (text, attribute, URL), and the console never marks tenant data as safe HTML:
// a display name like "<script>" is shown as those characters.
//
//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// page is what every page's layout needs, plus the page's own Data.
type page struct {
	Title    string
	Nav      string
	User     *session.Identity
	CSRF     string
	Orgs     []hubview.Org
	Operator bool
	Flash    string
	Error    string
	Live     bool // the page subscribes to live updates
	Data     any
}

type pages struct {
	byName map[string]*template.Template
}

var funcs = template.FuncMap{
	"join":   strings.Join,
	"bounds": bounds,
	"rfc3339": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	},
	"since": func(t time.Time) string { return sinceLabel(t, time.Now()) },
	// withCSRF gives the row template its row and the session's CSRF token for its forms.
	"withCSRF": func(r Row, csrf string) rowData { return rowData{Row: r, CSRF: csrf} },
	// rowTemplate is the empty row the page's script clones for workspaces that appear live.
	"rowTemplate": func(csrf string) rowData { return rowData{CSRF: csrf} },
}

type rowData struct {
	Row
	CSRF string
}

// loadPages parses layout.html with each page template.
func loadPages() (*pages, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" || strings.HasPrefix(base, "_") {
			continue
		}
		files := []string{"templates/layout.html", n}
		partials, _ := fs.Glob(templateFS, "templates/_*.html")
		files = append(files, partials...)
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, files...)
		if err != nil {
			return nil, fmt.Errorf("failed to parse the page %s: %w", base, err)
		}
		p.byName[base] = t
	}
	return p, nil
}

func staticHandler() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	fileServer := http.StripPrefix("/static/", http.FileServer(http.FS(sub)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		fileServer.ServeHTTP(w, r)
	})
}

// render writes the named page. A template error is a bug: it answers 500 without half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, name string, p page) {
	t, ok := s.pages.byName[name]
	if !ok {
		http.Error(w, "unknown page "+name, http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		s.opts.Log.Error(err, "failed to render a page", "page", name, "path", r.URL.Path)
		http.Error(w, "failed to render the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// renderSignedIn fills the layout's parts that come from the session and renders.
func (s *Server) renderSignedIn(w http.ResponseWriter, r *http.Request, req *request, code int, name string, p page) {
	if req != nil {
		p.User = &req.session.Identity
		p.CSRF = req.session.CSRF
		s.mu.Lock()
		p.Orgs, p.Operator = req.profile.orgs, req.profile.operator
		s.mu.Unlock()
		if p.Flash == "" {
			p.Flash = s.takeFlash(req)
		}
	}
	s.render(w, r, code, name, p)
}

// errorPage answers with a page saying msg (a plain sentence; it is escaped like any text).
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, req *request, code int, msg string) {
	if strings.HasPrefix(r.Header.Get("Accept"), "text/event-stream") {
		http.Error(w, msg, code)
		return
	}
	s.renderSignedIn(w, r, req, code, "error", page{Title: http.StatusText(code), Error: msg})
}

// hubError answers with what the hub said: its own message and a matching status code.
func (s *Server) hubError(w http.ResponseWriter, r *http.Request, req *request, err error) {
	code := http.StatusBadGateway
	switch {
	case hubview.IsUnauthorized(err):
		s.sessions.Delete(req.session.ID)
		s.clearSessionCookie(w)
		s.errorPage(w, r, nil, http.StatusUnauthorized, "The hub no longer accepts your sign-in; sign in again.")
		return
	case hubview.IsForbidden(err):
		code = http.StatusForbidden
	case hubview.IsNotFound(err):
		code = http.StatusNotFound
	default:
		if c := statusCode(err); c >= 400 && c < 500 {
			code = c
		}
	}
	s.errorPage(w, r, req, code, hubview.Message(err))
}
