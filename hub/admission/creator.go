package admission

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// Creator is the mutating webhook that records the creator, and for a WorkspaceShare whether
// an organization admin made it; see the package documentation.
type Creator struct {
	// Authorizer answers whether the creator of a share may override its workspace, that is,
	// is an organization admin. Required for WorkspaceShares.
	Authorizer Authorizer
	// Workspaces reads the workspace a share names, for its owner. Required for
	// WorkspaceShares.
	Workspaces WorkspaceReader
}

var _ admission.Handler = &Creator{}

// recorded are the annotations the webhook writes and keeps: each is set by Atrium at creation
// and never added, changed or removed afterwards but by a platform admin.
var recorded = []string{workspacesv1alpha1.AnnotationCreatedBy, workspacesv1alpha1.AnnotationCreatedByAdmin}

// Handle answers one admission request for a Workspace or a WorkspaceShare.
func (c *Creator) Handle(ctx context.Context, req admission.Request) admission.Response {
	noun := kindNoun(req.Kind.Kind)
	logger := log.FromContext(ctx).WithValues("kind", req.Kind.Kind, "namespace", req.Namespace, "name", req.Name, "user", req.UserInfo.Username, "operation", req.Operation)
	ctx = log.IntoContext(ctx, logger)
	obj, err := decodeMap(req.Object.Raw)
	if err != nil {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("failed to decode the %s: %w", noun, err))
	}
	switch req.Operation {
	case admissionv1.Create:
		return c.create(ctx, req, obj, noun)
	case admissionv1.Update:
		old, err := decodeMap(req.OldObject.Raw)
		if err != nil {
			return admission.Errored(http.StatusBadRequest, fmt.Errorf("failed to decode the old %s: %w", noun, err))
		}
		return update(ctx, req, obj, old, noun)
	}
	return admission.Allowed("")
}

// create records the creator of a new object and, for a share, whether an organization admin
// made it; it refuses a forged value of either.
func (c *Creator) create(ctx context.Context, req admission.Request, obj map[string]any, noun string) admission.Response {
	logger := log.FromContext(ctx)
	user := req.UserInfo.Username
	platform := isPlatform(req.UserInfo)
	set := map[string]string{}

	value, present := annotation(obj, workspacesv1alpha1.AnnotationCreatedBy)
	switch {
	case present && value == user:
	case present && value != "" && platform:
		// A platform admin creates on behalf of a user.
	case present && value != "":
		logger.Info("refused a forged creator", "claimed", value)
		return admission.Denied(fmt.Sprintf(
			`metadata.annotations[%q] records who created the %s and is set by Atrium to your username %q: leave it out (not %q)`,
			workspacesv1alpha1.AnnotationCreatedBy, noun, user, value))
	case user == "":
		return admission.Denied(fmt.Sprintf("the request has no username, so the %s cannot record its creator", noun))
	default:
		set[workspacesv1alpha1.AnnotationCreatedBy] = user
	}

	if claimed, present := annotation(obj, workspacesv1alpha1.AnnotationCreatedByAdmin); present && !platform {
		logger.Info("refused a forged admin verdict", "claimed", claimed)
		return admission.Denied(fmt.Sprintf(
			`metadata.annotations[%q] is set by Atrium when an organization admin creates a workspace share of a workspace they do not own: leave it out (not %q)`,
			workspacesv1alpha1.AnnotationCreatedByAdmin, claimed))
	}
	if req.Kind.Kind == "WorkspaceShare" && !platform {
		byAdmin, refusal := c.judgeShare(ctx, req, obj)
		if refusal != "" {
			return admission.Denied(refusal)
		}
		if byAdmin {
			set[workspacesv1alpha1.AnnotationCreatedByAdmin] = "true"
		}
	}
	if len(set) == 0 {
		return admission.Allowed("")
	}
	return patchAnnotations(req.Object.Raw, obj, set)
}

// update keeps the recorded annotations: one a request drops (kubectl replace, an apply that
// does not carry it) is restored, a change is refused, unless a platform admin repairs it.
func update(ctx context.Context, req admission.Request, obj, old map[string]any, noun string) admission.Response {
	logger := log.FromContext(ctx)
	restore := map[string]string{}
	for _, key := range recorded {
		value, present := annotation(obj, key)
		oldValue, oldPresent := annotation(old, key)
		what := fmt.Sprintf("metadata.annotations[%q] records who created the %s", key, noun)
		if key == workspacesv1alpha1.AnnotationCreatedByAdmin {
			what = fmt.Sprintf("metadata.annotations[%q] records that an organization admin created the %s", key, noun)
		}
		switch {
		case value == oldValue:
		case oldValue != "" && !present:
			restore[key] = oldValue
		case isPlatform(req.UserInfo):
			// A platform admin repairs a recorded value.
		case oldValue != "":
			logger.Info("refused a changed recorded annotation", "annotation", key, "recorded", oldValue, "claimed", value)
			return admission.Denied(fmt.Sprintf(`%s and cannot be changed (it is %q)`, what, oldValue))
		case oldPresent && !present:
			// An empty value dropped: nothing recorded either way.
		default:
			logger.Info("refused a claimed recorded annotation", "annotation", key, "claimed", value)
			return admission.Denied(fmt.Sprintf(`%s and cannot be added after creation (this %s has none)`, what, noun))
		}
	}
	if len(restore) == 0 {
		return admission.Allowed("")
	}
	return patchAnnotations(req.Object.Raw, obj, restore)
}

// patchAnnotations answers with the JSON patch that sets the annotations set on obj (decoded
// from raw).
func patchAnnotations(raw []byte, obj map[string]any, set map[string]string) admission.Response {
	meta, _ := obj["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		obj["metadata"] = meta
	}
	annotations, _ := meta["annotations"].(map[string]any)
	if annotations == nil {
		annotations = map[string]any{}
		meta["annotations"] = annotations
	}
	for k, v := range set {
		annotations[k] = v
	}
	mutated, err := json.Marshal(obj)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, fmt.Errorf("failed to encode the object: %w", err))
	}
	return admission.PatchResponseFromRaw(raw, mutated)
}

// creatorOf returns the creator annotation of a decoded object and whether it is present.
func creatorOf(obj map[string]any) (string, bool) {
	return annotation(obj, workspacesv1alpha1.AnnotationCreatedBy)
}

// annotation returns the annotation key of a decoded object and whether it is present.
func annotation(obj map[string]any, key string) (string, bool) {
	meta, _ := obj["metadata"].(map[string]any)
	annotations, _ := meta["annotations"].(map[string]any)
	v, ok := annotations[key]
	if !ok {
		return "", false
	}
	s, _ := v.(string)
	return s, true
}

func decodeMap(raw []byte) (map[string]any, error) {
	if len(raw) == 0 {
		return nil, fmt.Errorf("no object in the request")
	}
	obj := map[string]any{}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// kindNoun names a kind in a tenant's words.
func kindNoun(kind string) string {
	switch kind {
	case "WorkspaceShare":
		return "workspace share"
	default:
		return "workspace"
	}
}
