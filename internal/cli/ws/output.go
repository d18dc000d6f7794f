package ws

import (
	"encoding/json"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// Output formats of -o.
const (
	outputDefault = ""
	outputWide    = "wide"
	outputJSON    = "json"
	outputYAML    = "yaml"
	outputName    = "name"
)

func validateOutput(o string) error {
	switch o {
	case outputDefault, outputWide, outputJSON, outputYAML, outputName:
		return nil
	}
	return fmt.Errorf("unknown output format %q: use one of json, yaml, wide, name", o)
}

// printData writes obj as JSON or YAML.
func printData(w io.Writer, format string, obj runtime.Object) error {
	switch format {
	case outputJSON:
		b, err := json.MarshalIndent(obj, "", "    ")
		if err != nil {
			return fmt.Errorf("failed to encode JSON: %w", err)
		}
		_, err = fmt.Fprintln(w, string(b))
		return err
	case outputYAML:
		b, err := yaml.Marshal(obj)
		if err != nil {
			return fmt.Errorf("failed to encode YAML: %w", err)
		}
		_, err = w.Write(b)
		return err
	}
	return fmt.Errorf("unknown data format %q", format)
}

// resourceName is how -o name names a workspace, fully qualified as kubectl does, because kcp
// has its own `workspaces`.
func resourceName(ws *workspacesv1alpha1.Workspace) string {
	return "workspace." + workspacesv1alpha1.GroupName + "/" + ws.Name
}

// withTypeMeta sets apiVersion and kind, which typed clients leave empty, so -o json|yaml can
// be applied again.
func withTypeMeta(ws *workspacesv1alpha1.Workspace) *workspacesv1alpha1.Workspace {
	out := ws.DeepCopy()
	out.APIVersion = workspacesv1alpha1.SchemeGroupVersion.String()
	out.Kind = "Workspace"
	return out
}

func listWithTypeMeta(l *workspacesv1alpha1.WorkspaceList) *workspacesv1alpha1.WorkspaceList {
	out := &workspacesv1alpha1.WorkspaceList{ListMeta: l.ListMeta}
	out.APIVersion = workspacesv1alpha1.SchemeGroupVersion.String()
	out.Kind = "WorkspaceList"
	for i := range l.Items {
		out.Items = append(out.Items, *withTypeMeta(&l.Items[i]))
	}
	return out
}
