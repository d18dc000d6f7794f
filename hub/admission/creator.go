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

// Creator is the mutating webhook that records the creator; see the package documentation.
type Creator struct{}

var _ admission.Handler = &Creator{}

// Handle answers one admission request for a Workspace or a WorkspaceShare.
func (c *Creator) Handle(ctx context.Context, req admission.Request) admission.Response {
	noun := kindNoun(req.Kind.Kind)
	logger := log.FromContext(ctx).WithValues("kind", req.Kind.Kind, "namespace", req.Namespace, "name", req.Name, "user", req.UserInfo.Username, "operation", req.Operation)
	obj, err := decodeMap(req.Object.Raw)
	if err != nil {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("failed to decode the %s: %w", noun, err))
	}
	value, present := creatorOf(obj)
	user := req.UserInfo.Username

	switch req.Operation {
	case admissionv1.Create:
		switch {
		case present && value == user:
			return admission.Allowed("")
		case present && value != "" && isPlatform(req.UserInfo):
			// A platform admin creates on behalf of a user.
			return admission.Allowed("")
		case present && value != "":
			logger.Info("refused a forged creator", "claimed", value)
			return admission.Denied(fmt.Sprintf(
				`metadata.annotations[%q] records who created the %s and is set by Atrium to your username %q: leave it out (not %q)`,
				workspacesv1alpha1.AnnotationCreatedBy, noun, user, value))
		}
		if user == "" {
			return admission.Denied(fmt.Sprintf("the request has no username, so the %s cannot record its creator", noun))
		}
		return patchCreator(req.Object.Raw, obj, user)

	case admissionv1.Update:
		old, err := decodeMap(req.OldObject.Raw)
		if err != nil {
			return admission.Errored(http.StatusBadRequest, fmt.Errorf("failed to decode the old %s: %w", noun, err))
		}
		oldValue, oldPresent := creatorOf(old)
		switch {
		case value == oldValue:
			return admission.Allowed("")
		case oldValue != "" && !present:
			// kubectl replace or an apply that does not carry the annotation: keep it.
			return patchCreator(req.Object.Raw, obj, oldValue)
		case isPlatform(req.UserInfo):
			// A platform admin repairs a recorded creator.
			return admission.Allowed("")
		case oldValue != "":
			logger.Info("refused a changed creator", "creator", oldValue, "claimed", value)
			return admission.Denied(fmt.Sprintf(`metadata.annotations[%q] records who created the %s and cannot be changed (it is %q)`,
				workspacesv1alpha1.AnnotationCreatedBy, noun, oldValue))
		case oldPresent && !present:
			// An empty value dropped: nothing recorded either way.
			return admission.Allowed("")
		default:
			logger.Info("refused a claimed creator", "claimed", value)
			return admission.Denied(fmt.Sprintf(`metadata.annotations[%q] records who created the %s and cannot be added after creation (this %s has none)`,
				workspacesv1alpha1.AnnotationCreatedBy, noun, noun))
		}
	}
	return admission.Allowed("")
}

// patchCreator answers with the JSON patch that sets the creator annotation of obj (decoded
// from raw) to value.
func patchCreator(raw []byte, obj map[string]any, value string) admission.Response {
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
	annotations[workspacesv1alpha1.AnnotationCreatedBy] = value
	mutated, err := json.Marshal(obj)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, fmt.Errorf("failed to encode the object: %w", err))
	}
	return admission.PatchResponseFromRaw(raw, mutated)
}

// creatorOf returns the creator annotation of a decoded object and whether it is present.
func creatorOf(obj map[string]any) (string, bool) {
	meta, _ := obj["metadata"].(map[string]any)
	annotations, _ := meta["annotations"].(map[string]any)
	v, ok := annotations[workspacesv1alpha1.AnnotationCreatedBy]
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
