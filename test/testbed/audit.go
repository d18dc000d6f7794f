package testbed

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The API servers of the test bed audit every write (create, update, patch, delete) at
// Metadata level and nothing else, so tests can count the writes a component made: e.g. that
// a restarted agent rewrites nothing that was already right.
const auditPolicyYAML = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: None
  verbs: ["get", "list", "watch"]
- level: None
  resources:
  - group: coordination.k8s.io
    resources: ["leases"]
  - group: ""
    resources: ["events"]
- level: None
  nonResourceURLs: ["*"]
- level: Metadata
  verbs: ["create", "update", "patch", "delete", "deletecollection"]
`

func writeAuditPolicy(dir string) (string, error) {
	path := filepath.Join(dir, "audit-policy.yaml")
	if err := os.WriteFile(path, []byte(auditPolicyYAML), 0o644); err != nil {
		return "", fmt.Errorf("failed to write audit policy: %w", err)
	}
	return path, nil
}

// AuditEvent is the part of an audit event tests look at.
type AuditEvent struct {
	Verb       string `json:"verb"`
	RequestURI string `json:"requestURI"`
	Stage      string `json:"stage"`
	User       struct {
		Username string `json:"username"`
	} `json:"user"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
		APIGroup    string `json:"apiGroup"`
		Subresource string `json:"subresource"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
}

// Writes returns the completed write requests in the audit log at path made by user, after
// the first skip events of the file (use AuditMark to remember a position).
func Writes(path, user string, skip int) ([]AuditEvent, error) {
	events, err := readAudit(path)
	if err != nil {
		return nil, err
	}
	if skip > len(events) {
		skip = len(events)
	}
	var out []AuditEvent
	for _, e := range events[skip:] {
		if e.User.Username == user {
			out = append(out, e)
		}
	}
	return out, nil
}

// AuditMark returns the number of completed events in the audit log at path, a position for Writes.
func AuditMark(path string) (int, error) {
	events, err := readAudit(path)
	return len(events), err
}

func readAudit(path string) ([]AuditEvent, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to open audit log: %w", err)
	}
	defer f.Close()
	var out []AuditEvent
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 0, 1024*1024), 16*1024*1024)
	for s.Scan() {
		var e AuditEvent
		if err := json.Unmarshal(s.Bytes(), &e); err != nil {
			continue // a line being written
		}
		if e.Stage != "ResponseComplete" {
			continue
		}
		out = append(out, e)
	}
	return out, s.Err()
}

// String renders an event for failure messages.
func (e AuditEvent) String() string {
	code := 0
	if e.ResponseStatus != nil {
		code = e.ResponseStatus.Code
	}
	return strings.TrimSpace(fmt.Sprintf("%s %s (%d) by %s", strings.ToUpper(e.Verb), e.RequestURI, code, e.User.Username))
}
